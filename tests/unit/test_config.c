/* test_config.c: unit suite for scheduler/config.c: keys (time, threads, storage, network,
 * process), values, INI, overrides, JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scheduler/config.h"
#include "unit.h"

#define SECOND_NS 1000000000ll
/* The table's first keys, in table order; later keys are checked member by member. */
#define DEFAULT_JSON_START                                                                       \
    "{\"time.epoch\":1767225600,\"time.uptime\":100000000000,\"time.call_cost\":0,"              \
    "\"time.call_jitter\":0,\"time.cpu_per_call\":1000,\"time.external_wall\":0,"
#define JSON_MEMBERS_MAX 256
#define JSON_CAPACITY 16384

static struct sched_config config;
static struct sched_config_error error;

static void setup(void) {
    sched_config_defaults(&config);
    memset(&error, 0, sizeof(error));
}

static struct sched_config defaults(void) {
    struct sched_config fresh;
    sched_config_defaults(&fresh);
    return fresh;
}

/* The probability keys and their fields. */
static const struct {
    const char *name;
    size_t offset;
} probability_keys[] = {
    {"storage.read_corruption", offsetof(struct sched_config, storage_read_corruption)},
    {"storage.write_corruption", offsetof(struct sched_config, storage_write_corruption)},
    {"storage.misdirected_read", offsetof(struct sched_config, storage_misdirected_read)},
    {"storage.misdirected_write", offsetof(struct sched_config, storage_misdirected_write)},
    {"storage.phantom_write", offsetof(struct sched_config, storage_phantom_write)},
    {"storage.sync_failure", offsetof(struct sched_config, storage_sync_failure)},
    {"storage.write_error", offsetof(struct sched_config, storage_write_error)},
    {"storage.short_write", offsetof(struct sched_config, storage_short_write)},
    {"storage.stall", offsetof(struct sched_config, storage_stall)},
    {"storage.lost_unsynced", offsetof(struct sched_config, storage_lost_unsynced)},
    {"process.crash_probability", offsetof(struct sched_config, process_crash_probability)},
};

#define PROBABILITY_KEY_COUNT (sizeof(probability_keys) / sizeof(probability_keys[0]))

static int64_t *probability_field(struct sched_config *target, size_t index) {
    return (int64_t *)(void *)((char *)target + probability_keys[index].offset);
}

static void assert_unchanged(void) {
    struct sched_config fresh = defaults();
    ck_assert_mem_eq(&config, &fresh, sizeof(config));
}

static int parse_ini(const char *text) {
    return sched_config_try_parse_ini(&config, text, strlen(text), &error);
}

static void assert_error(int line, const char *key, const char *message_part) {
    ck_assert_int_eq(error.line, line);
    ck_assert_str_eq(error.key, key);
    ck_assert_msg(strstr(error.message, message_part) != 0, "message \"%s\" lacks \"%s\"",
                  error.message, message_part);
}

START_TEST(test_defaults) {
    struct sched_config fresh;
    memset(&fresh, 0xa5, sizeof(fresh));
    sched_config_defaults(&fresh);
    ck_assert_int_eq(fresh.time_epoch_s, 1767225600); /* 2026-01-01T00:00:00Z */
    ck_assert_int_eq(fresh.time_uptime_ns, 100 * SECOND_NS);
    ck_assert_int_eq(fresh.time_call_cost_ns, 0);
    ck_assert_int_eq(fresh.time_call_jitter_ns, 0);
    ck_assert_int_eq(fresh.time_cpu_per_call_ns, 1000);
}
END_TEST

static void set_ok(const char *key, const char *value) {
    ck_assert_msg(sched_config_try_set(&config, key, value, &error) == 0, "%s=%s: %s", key, value,
                  error.message);
}

START_TEST(test_each_key) {
    set_ok("time.epoch", "12345");
    set_ok("time.uptime", "5s");
    set_ok("time.call_cost", "3us");
    set_ok("time.call_jitter", "7ns");
    set_ok("time.cpu_per_call", "2ms");
    ck_assert_int_eq(config.time_epoch_s, 12345);
    ck_assert_int_eq(config.time_uptime_ns, 5 * SECOND_NS);
    ck_assert_int_eq(config.time_call_cost_ns, 3000);
    ck_assert_int_eq(config.time_call_jitter_ns, 7);
    ck_assert_int_eq(config.time_cpu_per_call_ns, 2000000);
}
END_TEST

/* The storage and process keys' defaults, as moonshim.conf(5) lists them. */
START_TEST(test_storage_process_defaults) {
    struct sched_config fresh;
    memset(&fresh, 0xa5, sizeof(fresh));
    sched_config_defaults(&fresh);
    ck_assert_str_eq(fresh.storage_paths, ".");
    ck_assert_int_eq(fresh.storage_latency, 1);
    ck_assert_int_eq(fresh.storage_read_latency_min_ns, 50000);
    ck_assert_int_eq(fresh.storage_read_latency_max_ns, 200000);
    ck_assert_int_eq(fresh.storage_write_latency_min_ns, 100000);
    ck_assert_int_eq(fresh.storage_write_latency_max_ns, 500000);
    ck_assert_int_eq(fresh.storage_sync_latency_min_ns, 1000000);
    ck_assert_int_eq(fresh.storage_sync_latency_max_ns, 5000000);
    ck_assert_int_eq(fresh.storage_iops, 25000);
    ck_assert_int_eq(fresh.storage_bandwidth, 150000000);
    for (size_t i = 0; i < PROBABILITY_KEY_COUNT; i++) {
        int64_t expected = strcmp(probability_keys[i].name, "storage.lost_unsynced") == 0
                               ? SCHED_PROBABILITY_ONE / 2
                               : 0;
        ck_assert_msg(*probability_field(&fresh, i) == expected, "%s defaults to %lld",
                      probability_keys[i].name, (long long)*probability_field(&fresh, i));
    }
    ck_assert_int_eq(fresh.storage_stall_min_ns, 100000000);
    ck_assert_int_eq(fresh.storage_stall_max_ns, SECOND_NS);
    ck_assert_int_eq(fresh.storage_swarm, 0);
    ck_assert_int_eq(fresh.storage_fast_local, 0);
    ck_assert_int_eq(fresh.storage_fsyncgate, 0);
    ck_assert_int_eq(fresh.storage_torn_writes, 1);
    ck_assert_int_eq(fresh.process_crash_at_call, 0);
    ck_assert_int_eq(fresh.process_crash_at_ns, 0);
}
END_TEST

START_TEST(test_storage_process_keys) {
    set_ok("storage.paths", "/var/tmp/db");
    set_ok("storage.latency", "off");
    set_ok("storage.read_latency_min", "1us");
    set_ok("storage.read_latency_max", "2us");
    set_ok("storage.write_latency_min", "3us");
    set_ok("storage.write_latency_max", "4us");
    set_ok("storage.sync_latency_min", "5ms");
    set_ok("storage.sync_latency_max", "1s");
    set_ok("storage.iops", "1000");
    set_ok("storage.bandwidth", "1048576");
    set_ok("storage.stall_min", "10ms");
    set_ok("storage.stall_max", "1h");
    set_ok("storage.swarm", "yes");
    set_ok("storage.fsyncgate", "true");
    set_ok("storage.torn_writes", "0");
    set_ok("process.crash_at_call", "1234");
    set_ok("process.crash_at", "90s");
    ck_assert_str_eq(config.storage_paths, "/var/tmp/db");
    ck_assert_int_eq(config.storage_latency, 0);
    ck_assert_int_eq(config.storage_read_latency_min_ns, 1000);
    ck_assert_int_eq(config.storage_read_latency_max_ns, 2000);
    ck_assert_int_eq(config.storage_write_latency_min_ns, 3000);
    ck_assert_int_eq(config.storage_write_latency_max_ns, 4000);
    ck_assert_int_eq(config.storage_sync_latency_min_ns, 5000000);
    ck_assert_int_eq(config.storage_sync_latency_max_ns, SECOND_NS);
    ck_assert_int_eq(config.storage_iops, 1000);
    ck_assert_int_eq(config.storage_bandwidth, 1048576);
    ck_assert_int_eq(config.storage_stall_min_ns, 10000000);
    ck_assert_int_eq(config.storage_stall_max_ns, 3600 * SECOND_NS);
    ck_assert_int_eq(config.storage_swarm, 1);
    ck_assert_int_eq(config.storage_fsyncgate, 1);
    ck_assert_int_eq(config.storage_torn_writes, 0);
    ck_assert_int_eq(config.process_crash_at_call, 1234);
    ck_assert_int_eq(config.process_crash_at_ns, 90 * SECOND_NS);
}
END_TEST

/* Every probability key takes every probability form, into its own field only. */
START_TEST(test_storage_process_probability_keys) {
    static const struct {
        const char *text;
        int64_t q32;
    } forms[] = {{"0.01", 42949672}, {"1e-4", 429496},  {"2.5%", 107374182},
                 {"1", SCHED_PROBABILITY_ONE}, {"0", 0}, {"50%", SCHED_PROBABILITY_ONE / 2}};
    for (size_t i = 0; i < PROBABILITY_KEY_COUNT; i++) {
        for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
            setup();
            set_ok(probability_keys[i].name, forms[f].text);
            ck_assert_msg(*probability_field(&config, i) == forms[f].q32, "%s=%s gave %lld",
                          probability_keys[i].name, forms[f].text,
                          (long long)*probability_field(&config, i));
            struct sched_config expected = defaults();
            *probability_field(&expected, i) = forms[f].q32;
            ck_assert_mem_eq(&config, &expected, sizeof(config));
        }
        static const char *const bad[] = {"1.5", "-0.1", "2", "on", "1/1000", "0.1%%", ""};
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
            setup();
            ck_assert_int_eq(sched_config_try_set(&config, probability_keys[i].name, bad[b],
                                                  &error),
                             -1);
            assert_error(0, probability_keys[i].name, "not a probability");
            assert_unchanged();
        }
    }
}
END_TEST

START_TEST(test_storage_booleans) {
    static const struct {
        const char *name;
        size_t offset;
    } keys[] = {{"storage.latency", offsetof(struct sched_config, storage_latency)},
                {"storage.swarm", offsetof(struct sched_config, storage_swarm)},
                {"storage.fast_local", offsetof(struct sched_config, storage_fast_local)},
                {"storage.fsyncgate", offsetof(struct sched_config, storage_fsyncgate)},
                {"storage.torn_writes", offsetof(struct sched_config, storage_torn_writes)}};
    static const struct {
        const char *text;
        int64_t value;
    } forms[] = {{"on", 1}, {"off", 0}, {"true", 1}, {"false", 0},
                 {"yes", 1}, {"no", 0}, {"1", 1}, {"0", 0}};
    static const char *const bad[] = {"On", "TRUE", "2", "enabled", "y", ""};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const int64_t *field = (const int64_t *)(const void *)((const char *)&config +
                                                               keys[k].offset);
        for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
            set_ok(keys[k].name, forms[f].text);
            ck_assert_msg(*field == forms[f].value, "%s=%s gave %lld", keys[k].name,
                          forms[f].text, (long long)*field);
        }
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
            ck_assert_int_eq(sched_config_try_set(&config, keys[k].name, bad[b], &error), -1);
            assert_error(0, keys[k].name, "not a boolean");
        }
    }
}
END_TEST

/* The bounds moonshim.conf(5) gives: each limit is accepted, one past it is refused and leaves
 * the configuration as it was. */
START_TEST(test_storage_process_bounds) {
    static const struct {
        const char *key, *lowest, *below, *highest, *above;
    } bounds[] = {
        {"storage.iops", "1", "0", "1000000000", "1000000001"},
        {"storage.bandwidth", "1", "0", "1099511627776", "1099511627777"},
        {"storage.read_latency_min", "0", 0, "1s", "1000000001ns"},
        {"storage.read_latency_max", "0", 0, "1000ms", "1001ms"},
        {"storage.write_latency_min", "0", 0, "1s", "1000001us"},
        {"storage.write_latency_max", "0", 0, "1s", "2s"},
        {"storage.sync_latency_min", "0", 0, "1s", "1000000001ns"},
        {"storage.sync_latency_max", "0", 0, "1s", "1001ms"},
        {"storage.stall_min", "0", 0, "1h", "3600000000001ns"},
        {"storage.stall_max", "0", 0, "60m", "61m"},
        {"process.crash_at_call", "0", "-1", "4611686018427387904", "4611686018427387905"},
        {"process.crash_at", "0", 0, "876000h", "876001h"},
    };
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        if (bounds[i].below) {
            ck_assert_int_eq(sched_config_try_set(&config, bounds[i].key, bounds[i].below, &error),
                             -1);
            assert_error(0, bounds[i].key, "below the minimum");
        }
        ck_assert_int_eq(sched_config_try_set(&config, bounds[i].key, bounds[i].above, &error),
                         -1);
        assert_error(0, bounds[i].key, "above the maximum");
        assert_unchanged();
    }
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        set_ok(bounds[i].key, bounds[i].lowest);
        set_ok(bounds[i].key, bounds[i].highest);
    }
    ck_assert_int_eq(config.storage_iops, 1000000000);
    ck_assert_int_eq(config.storage_bandwidth, 1ll << 40);
    ck_assert_int_eq(config.storage_stall_max_ns, 3600 * SECOND_NS);
    ck_assert_int_eq(config.process_crash_at_call, 1ll << 62);
    ck_assert_int_eq(config.process_crash_at_ns, 876000ll * 3600 * SECOND_NS);
}
END_TEST

/* storage.paths is a string: kept as given (any text, empty too), up to 255 characters. */
START_TEST(test_storage_paths_string) {
    set_ok("storage.paths", "/var/tmp/db/data,/var/tmp/db/wal");
    ck_assert_str_eq(config.storage_paths, "/var/tmp/db/data,/var/tmp/db/wal");
    set_ok("storage.paths", "/a:/b");
    ck_assert_str_eq(config.storage_paths, "/a:/b");
    set_ok("storage.paths", "");
    ck_assert_str_eq(config.storage_paths, "");
    static char longest[SCHED_CONFIG_VALUE_MAX + 1];
    memset(longest, 'p', SCHED_CONFIG_VALUE_MAX - 1);
    longest[SCHED_CONFIG_VALUE_MAX - 1] = '\0';
    set_ok("storage.paths", longest);
    ck_assert_str_eq(config.storage_paths, longest);
    setup();
    longest[SCHED_CONFIG_VALUE_MAX - 1] = 'p';
    ck_assert_int_eq(sched_config_try_set(&config, "storage.paths", longest, &error), -1);
    assert_error(0, "storage.paths", "too long");
    assert_unchanged();
}
END_TEST

/* ---- [network] ---- */

/* The network probability keys and their fields. */
static const struct {
    const char *name;
    size_t offset;
} network_probability_keys[] = {
    {"network.connect_refused", offsetof(struct sched_config, network_connect_refused)},
    {"network.connect_hang", offsetof(struct sched_config, network_connect_hang)},
    {"network.close", offsetof(struct sched_config, network_close)},
    {"network.close_rst", offsetof(struct sched_config, network_close_rst)},
    {"network.half_open", offsetof(struct sched_config, network_half_open)},
    {"network.short", offsetof(struct sched_config, network_short)},
    {"network.clog", offsetof(struct sched_config, network_clog)},
    {"network.bit_flip", offsetof(struct sched_config, network_bit_flip)},
    {"network.eintr", offsetof(struct sched_config, network_eintr)},
    {"network.spurious_ready", offsetof(struct sched_config, network_spurious_ready)},
    {"network.accept_error", offsetof(struct sched_config, network_accept_error)},
};

#define NETWORK_PROBABILITY_KEY_COUNT                                                            \
    (sizeof(network_probability_keys) / sizeof(network_probability_keys[0]))

static int64_t *field_at(struct sched_config *target, size_t offset) {
    return (int64_t *)(void *)((char *)target + offset);
}

/* The defaults of DESIGN.md: latency on, uniform, connect 1-11 ms, accept 1-6 ms, read 10-60 us,
 * write 100-600 us, no peer latency, no faults; a close is a reset half the time. */
START_TEST(test_network_defaults) {
    struct sched_config fresh;
    memset(&fresh, 0xa5, sizeof(fresh));
    sched_config_defaults(&fresh);
    ck_assert_int_eq(fresh.network_latency, 1);
    ck_assert_int_eq(fresh.network_latency_shape, 0);
    ck_assert_int_eq(fresh.network_connect_latency_min_ns, 1000000);
    ck_assert_int_eq(fresh.network_connect_latency_max_ns, 11000000);
    ck_assert_int_eq(fresh.network_accept_latency_min_ns, 1000000);
    ck_assert_int_eq(fresh.network_accept_latency_max_ns, 6000000);
    ck_assert_int_eq(fresh.network_read_latency_min_ns, 10000);
    ck_assert_int_eq(fresh.network_read_latency_max_ns, 60000);
    ck_assert_int_eq(fresh.network_write_latency_min_ns, 100000);
    ck_assert_int_eq(fresh.network_write_latency_max_ns, 600000);
    ck_assert_int_eq(fresh.network_peer_latency_ns, 0);
    ck_assert_int_eq(fresh.network_swarm, 0);
    for (size_t i = 0; i < NETWORK_PROBABILITY_KEY_COUNT; i++) {
        int64_t expected = strcmp(network_probability_keys[i].name, "network.close_rst") == 0
                               ? SCHED_PROBABILITY_ONE / 2
                               : 0;
        int64_t value = *field_at(&fresh, network_probability_keys[i].offset);
        ck_assert_msg(value == expected, "%s defaults to %lld", network_probability_keys[i].name,
                      (long long)value);
    }
}
END_TEST

START_TEST(test_network_keys) {
    set_ok("network.latency", "off");
    set_ok("network.latency_shape", "exponential");
    set_ok("network.connect_latency_min", "2ms");
    set_ok("network.connect_latency_max", "20ms");
    set_ok("network.accept_latency_min", "3ms");
    set_ok("network.accept_latency_max", "30ms");
    set_ok("network.read_latency_min", "1us");
    set_ok("network.read_latency_max", "2us");
    set_ok("network.write_latency_min", "3us");
    set_ok("network.write_latency_max", "4us");
    set_ok("network.peer_latency", "250us");
    set_ok("network.swarm", "yes");
    ck_assert_int_eq(config.network_latency, 0);
    ck_assert_int_eq(config.network_latency_shape, 1);
    ck_assert_int_eq(config.network_connect_latency_min_ns, 2000000);
    ck_assert_int_eq(config.network_connect_latency_max_ns, 20000000);
    ck_assert_int_eq(config.network_accept_latency_min_ns, 3000000);
    ck_assert_int_eq(config.network_accept_latency_max_ns, 30000000);
    ck_assert_int_eq(config.network_read_latency_min_ns, 1000);
    ck_assert_int_eq(config.network_read_latency_max_ns, 2000);
    ck_assert_int_eq(config.network_write_latency_min_ns, 3000);
    ck_assert_int_eq(config.network_write_latency_max_ns, 4000);
    ck_assert_int_eq(config.network_peer_latency_ns, 250000);
    ck_assert_int_eq(config.network_swarm, 1);
}
END_TEST

/* Every network probability key takes every probability form, into its own field only. */
START_TEST(test_network_probability_keys) {
    static const struct {
        const char *text;
        int64_t q32;
    } forms[] = {{"0.01", 42949672}, {"1e-4", 429496},  {"2.5%", 107374182},
                 {"1", SCHED_PROBABILITY_ONE}, {"0", 0}, {"50%", SCHED_PROBABILITY_ONE / 2}};
    static const char *const bad[] = {"1.5", "-0.1", "2", "on", "1/1000", "0.1%%", ""};
    for (size_t i = 0; i < NETWORK_PROBABILITY_KEY_COUNT; i++) {
        const char *name = network_probability_keys[i].name;
        size_t offset = network_probability_keys[i].offset;
        for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
            setup();
            set_ok(name, forms[f].text);
            ck_assert_msg(*field_at(&config, offset) == forms[f].q32, "%s=%s gave %lld", name,
                          forms[f].text, (long long)*field_at(&config, offset));
            struct sched_config expected = defaults();
            *field_at(&expected, offset) = forms[f].q32;
            ck_assert_mem_eq(&config, &expected, sizeof(config));
        }
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
            setup();
            ck_assert_int_eq(sched_config_try_set(&config, name, bad[b], &error), -1);
            assert_error(0, name, "not a probability");
            assert_unchanged();
        }
    }
}
END_TEST

/* network.latency_shape: one of three words, lower case, nothing else (not even the numbers the
 * JSON writes), and the error says which words there are. */
START_TEST(test_network_shape) {
    static const struct {
        const char *text;
        int64_t value;
    } shapes[] = {{"exponential", 1}, {"bimodal", 2}, {"uniform", 0}};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        set_ok("network.latency_shape", shapes[s].text);
        ck_assert_int_eq(config.network_latency_shape, shapes[s].value);
    }
    assert_unchanged();
    static const char *const bad[] = {"Uniform", "EXPONENTIAL", "normal", "gaussian", "exp",
                                      "uniform ", " bimodal", "uniformly", "0", "1", "2", "on",
                                      ""};
    for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
        set_ok("network.latency_shape", "bimodal");
        ck_assert_int_eq(sched_config_try_set(&config, "network.latency_shape", bad[b], &error),
                         -1);
        assert_error(0, "network.latency_shape", "not a latency shape");
        ck_assert_msg(strstr(error.message, "uniform, exponential or bimodal") != 0,
                      "message \"%s\" does not list the shapes", error.message);
        size_t length = strlen(error.message), bad_length = strlen(bad[b]);
        ck_assert_msg(length >= bad_length &&
                          strcmp(error.message + length - bad_length, bad[b]) == 0,
                      "message \"%s\" does not end with the value \"%s\"", error.message, bad[b]);
        ck_assert_int_eq(config.network_latency_shape, 2);
    }
}
END_TEST

START_TEST(test_network_booleans) {
    static const struct {
        const char *name;
        size_t offset;
    } keys[] = {{"network.latency", offsetof(struct sched_config, network_latency)},
                {"network.swarm", offsetof(struct sched_config, network_swarm)}};
    static const struct {
        const char *text;
        int64_t value;
    } forms[] = {{"on", 1}, {"off", 0}, {"true", 1}, {"false", 0},
                 {"yes", 1}, {"no", 0}, {"1", 1}, {"0", 0}};
    static const char *const bad[] = {"On", "TRUE", "2", "enabled", "uniform", ""};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
            set_ok(keys[k].name, forms[f].text);
            ck_assert_msg(*field_at(&config, keys[k].offset) == forms[f].value, "%s=%s",
                          keys[k].name, forms[f].text);
        }
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
            ck_assert_int_eq(sched_config_try_set(&config, keys[k].name, bad[b], &error), -1);
            assert_error(0, keys[k].name, "not a boolean");
        }
    }
}
END_TEST

/* Every network duration is from 0 to 1s; one past a limit is refused and changes nothing. */
START_TEST(test_network_bounds) {
    static const char *const keys[] = {
        "network.connect_latency_min", "network.connect_latency_max",
        "network.accept_latency_min",  "network.accept_latency_max",
        "network.read_latency_min",    "network.read_latency_max",
        "network.write_latency_min",   "network.write_latency_max",
        "network.peer_latency"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        ck_assert_int_eq(sched_config_try_set(&config, keys[i], "1000000001ns", &error), -1);
        assert_error(0, keys[i], "above the maximum");
        ck_assert_int_eq(sched_config_try_set(&config, keys[i], "2s", &error), -1);
        assert_error(0, keys[i], "above the maximum");
        ck_assert_int_eq(sched_config_try_set(&config, keys[i], "5", &error), -1);
        assert_error(0, keys[i], "not a duration");
        ck_assert_int_eq(sched_config_try_set(&config, keys[i], "-1ms", &error), -1);
        assert_error(0, keys[i], "not a duration");
        assert_unchanged();
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        set_ok(keys[i], "0");
        set_ok(keys[i], "1s");
    }
    ck_assert_int_eq(config.network_connect_latency_min_ns, SECOND_NS);
    ck_assert_int_eq(config.network_write_latency_max_ns, SECOND_NS);
    ck_assert_int_eq(config.network_peer_latency_ns, SECOND_NS);
}
END_TEST

START_TEST(test_integer_forms) {
    set_ok("time.epoch", "0x10");
    ck_assert_int_eq(config.time_epoch_s, 16);
    set_ok("time.epoch", "0");
    ck_assert_int_eq(config.time_epoch_s, 0);
}
END_TEST

static int64_t duration(const char *text) {
    int64_t nanoseconds = -12345;
    ck_assert_msg(sched_config_parse_duration(text, &nanoseconds) == 0, "\"%s\" should parse",
                  text);
    return nanoseconds;
}

static void assert_bad_duration(const char *text) {
    int64_t nanoseconds = -12345;
    ck_assert_msg(sched_config_parse_duration(text, &nanoseconds) == -1, "\"%s\" should fail",
                  text);
    ck_assert_int_eq(nanoseconds, -12345);
}

START_TEST(test_duration_units) {
    ck_assert_int_eq(duration("7ns"), 7);
    ck_assert_int_eq(duration("7us"), 7000);
    ck_assert_int_eq(duration("7ms"), 7000000);
    ck_assert_int_eq(duration("7s"), 7 * SECOND_NS);
    ck_assert_int_eq(duration("7m"), 420 * SECOND_NS);
    ck_assert_int_eq(duration("7h"), 25200 * SECOND_NS);
    ck_assert_int_eq(duration("0"), 0);
    ck_assert_int_eq(duration("0s"), 0);
    ck_assert_int_eq(duration("0010ms"), 10000000);
}
END_TEST

START_TEST(test_duration_limits) {
    ck_assert_int_eq(duration("2562047h"), 2562047ll * 3600 * SECOND_NS);
    assert_bad_duration("2562048h");
    ck_assert_int_eq(duration("9223372036854ms"), 9223372036854ll * 1000000);
    assert_bad_duration("9223372036855ms");
    assert_bad_duration("99999999999999999999ns");
}
END_TEST

START_TEST(test_duration_bad) {
    static const char *const bad[] = {"", "5", "s", "ns", "5x", "5 s", " 5s", "5s ", "-5s",
                                      "+5s", "1.5s", "5sec", "5S", "5NS", "5ms5", "0x10s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) assert_bad_duration(bad[i]);
}
END_TEST

START_TEST(test_set_unknown_key) {
    ck_assert_int_eq(sched_config_try_set(&config, "time.bogus", "1s", &error), -1);
    assert_error(0, "time.bogus", "unknown key");
    ck_assert_int_eq(sched_config_try_set(&config, "uptime", "1s", &error), -1);
    assert_error(0, "uptime", "unknown key");
    assert_unchanged();
}
END_TEST

START_TEST(test_set_bad_values) {
    ck_assert_int_eq(sched_config_try_set(&config, "time.uptime", "5", &error), -1);
    assert_error(0, "time.uptime", "not a duration");
    ck_assert_ptr_nonnull(strstr(error.message, ": 5"));
    ck_assert_int_eq(sched_config_try_set(&config, "time.epoch", "soon", &error), -1);
    assert_error(0, "time.epoch", "not an integer: soon");
    ck_assert_int_eq(sched_config_try_set(&config, "time.epoch", "1s", &error), -1);
    assert_error(0, "time.epoch", "not an integer");
    ck_assert_int_eq(sched_config_try_set(&config, "time.epoch", "", &error), -1);
    assert_unchanged();
}
END_TEST

START_TEST(test_set_below_minimum) {
    ck_assert_int_eq(sched_config_try_set(&config, "time.epoch", "-5", &error), -1);
    assert_error(0, "time.epoch", "below the minimum: -5");
    ck_assert_int_eq(sched_config_try_set(&config, "time.uptime", "0", &error), -1);
    assert_error(0, "time.uptime", "below the minimum");
    assert_unchanged();
    set_ok("time.uptime", "1ns");
    set_ok("time.call_cost", "0");
}
END_TEST

START_TEST(test_set_above_maximum) {
    ck_assert_int_eq(sched_config_try_set(&config, "time.epoch", "9000000001", &error), -1);
    assert_error(0, "time.epoch", "above the maximum: 9000000001");
    ck_assert_int_eq(sched_config_try_set(&config, "time.call_cost", "2s", &error), -1);
    assert_error(0, "time.call_cost", "above the maximum: 2s");
    ck_assert_int_eq(sched_config_try_set(&config, "threads.stall_timeout", "25h", &error), -1);
    assert_error(0, "threads.stall_timeout", "above the maximum");
    assert_unchanged();
    set_ok("time.epoch", "9000000000");
    set_ok("time.call_cost", "1s");
    set_ok("threads.chaos", "yes");
    ck_assert_int_eq(config.threads_chaos, 1);
    ck_assert_int_eq(sched_config_try_set(&config, "threads.chaos", "maybe", &error), -1);
    assert_error(0, "threads.chaos", "not a boolean");
}
END_TEST

static int64_t probability(const char *text) {
    int64_t q32 = -12345;
    ck_assert_msg(sched_config_parse_probability(text, &q32) == 0, "\"%s\" should parse", text);
    return q32;
}

static void assert_bad_probability(const char *text) {
    int64_t q32 = -12345;
    ck_assert_msg(sched_config_parse_probability(text, &q32) == -1, "\"%s\" should fail", text);
    ck_assert_int_eq(q32, -12345);
}

START_TEST(test_probability_forms) {
    ck_assert_int_eq(probability("0"), 0);
    ck_assert_int_eq(probability("1"), SCHED_PROBABILITY_ONE);
    ck_assert_int_eq(probability("1.000"), SCHED_PROBABILITY_ONE);
    ck_assert_int_eq(probability("0.5"), SCHED_PROBABILITY_ONE / 2);
    ck_assert_int_eq(probability(".5"), SCHED_PROBABILITY_ONE / 2);
    ck_assert_int_eq(probability("50%"), SCHED_PROBABILITY_ONE / 2);
    ck_assert_int_eq(probability("100%"), SCHED_PROBABILITY_ONE);
    ck_assert_int_eq(probability("25e-2"), SCHED_PROBABILITY_ONE / 4);
    ck_assert_int_eq(probability("0.0025e2"), SCHED_PROBABILITY_ONE / 4);
    /* Not exact in binary: rounded down to the 2^-32 grid. */
    ck_assert_int_eq(probability("0.1"), 429496729);
    ck_assert_int_eq(probability("1e-2"), 42949672);
    ck_assert_int_eq(probability("2.5%"), 107374182);
    ck_assert_int_eq(probability("1e-40"), 0);
}
END_TEST

START_TEST(test_probability_bad) {
    static const char *const bad[] = {"", ".", "%", "-0.1", "+0.1", "1.1", "101%", "2",
                                      "1e", "1e+", "1e1", "0.5 ", " 0.5", "1/2", "0x1",
                                      "50%%", "1..0", "1e41", "0.5e-2%",
                                      /* an exponent that wraps an int64 must not read as -1 */
                                      "5e-18446744073709551617"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) assert_bad_probability(bad[i]);
}
END_TEST

static const char full_ini[] =
    "# moonshim test configuration\n"
    "; a second comment style\n"
    "\n"
    "   \t\n"
    "[time]\n"
    "epoch = 1000\n"
    "  uptime=5s   \n"
    "\tcall_cost\t=\t3us\r\n"
    "   # an indented comment\n"
    "call_jitter = 7ns\n"
    "cpu_per_call = 2ms\n"
    "[ network ]\n"
    "[threads]";

START_TEST(test_ini_full) {
    ck_assert_int_eq(parse_ini(full_ini), 0);
    ck_assert_int_eq(config.time_epoch_s, 1000);
    ck_assert_int_eq(config.time_uptime_ns, 5 * SECOND_NS);
    ck_assert_int_eq(config.time_call_cost_ns, 3000);
    ck_assert_int_eq(config.time_call_jitter_ns, 7);
    ck_assert_int_eq(config.time_cpu_per_call_ns, 2000000);
}
END_TEST

/* moonshim.conf(5)'s storage example: a list of directories (only a file can give one), a
 * percentage, a boolean and an exponent. */
START_TEST(test_ini_storage_and_process) {
    ck_assert_int_eq(parse_ini("[storage]\n"
                               "paths = /var/tmp/db/data,/var/tmp/db/wal\n"
                               "sync_failure = 0.1%\n"
                               "fsyncgate = on\n"
                               "iops = 500\n"
                               "write_latency_max = 2ms\n"
                               "[process]\n"
                               "crash_probability = 1e-3\n"
                               "crash_at = 5m\n"),
                     0);
    ck_assert_str_eq(config.storage_paths, "/var/tmp/db/data,/var/tmp/db/wal");
    ck_assert_int_eq(config.storage_sync_failure, 4294967);
    ck_assert_int_eq(config.storage_fsyncgate, 1);
    ck_assert_int_eq(config.storage_iops, 500);
    ck_assert_int_eq(config.storage_write_latency_max_ns, 2000000);
    ck_assert_int_eq(config.process_crash_probability, 4294967);
    ck_assert_int_eq(config.process_crash_at_ns, 300 * SECOND_NS);
    /* An empty value is an empty string, not an error, for the one string key. */
    ck_assert_int_eq(parse_ini("[storage]\npaths =\n"), 0);
    ck_assert_str_eq(config.storage_paths, "");
}
END_TEST

START_TEST(test_ini_storage_errors_name_key_and_line) {
    ck_assert_int_eq(parse_ini("[storage]\nlatency = on\n\nsync_failure = 1.5\n"), -1);
    assert_error(4, "storage.sync_failure", "not a probability");
    ck_assert_int_eq(parse_ini("[process]\ncrash_at_call = -3\n"), -1);
    assert_error(2, "process.crash_at_call", "below the minimum");
    ck_assert_int_eq(parse_ini("[storage]\niops = 0\n"), -1);
    assert_error(2, "storage.iops", "below the minimum");
    ck_assert_int_eq(parse_ini("[storage]\ntorn_writes = maybe\n"), -1);
    assert_error(2, "storage.torn_writes", "not a boolean");
    ck_assert_int_eq(parse_ini("[process]\ncrash = 1\n"), -1);
    assert_error(2, "process.crash", "unknown key");
}
END_TEST

/* A [network] section: a shape, durations, probabilities, a boolean; the rest stays. */
START_TEST(test_ini_network) {
    ck_assert_int_eq(parse_ini("[network]\n"
                               "latency_shape = bimodal\n"
                               "connect_latency_max = 50ms\n"
                               "peer_latency = 2ms\n"
                               "close = 1%\n"
                               "close_rst = 0\n"
                               "clog = 1e-3\n"
                               "swarm = on\n"),
                     0);
    ck_assert_int_eq(config.network_latency_shape, 2);
    ck_assert_int_eq(config.network_connect_latency_max_ns, 50000000);
    ck_assert_int_eq(config.network_peer_latency_ns, 2000000);
    ck_assert_int_eq(config.network_close, 42949672);
    ck_assert_int_eq(config.network_close_rst, 0);
    ck_assert_int_eq(config.network_clog, 4294967);
    ck_assert_int_eq(config.network_swarm, 1);
    struct sched_config expected = defaults();
    expected.network_latency_shape = 2;
    expected.network_connect_latency_max_ns = 50000000;
    expected.network_peer_latency_ns = 2000000;
    expected.network_close = 42949672;
    expected.network_close_rst = 0;
    expected.network_clog = 4294967;
    expected.network_swarm = 1;
    ck_assert_mem_eq(&config, &expected, sizeof(config));
}
END_TEST

START_TEST(test_ini_network_errors_name_key_and_line) {
    ck_assert_int_eq(parse_ini("[network]\nlatency = on\n\nlatency_shape = gaussian\n"), -1);
    assert_error(4, "network.latency_shape", "not a latency shape");
    ck_assert_ptr_nonnull(strstr(error.message, "gaussian"));
    ck_assert_int_eq(parse_ini("[network]\nread_latency_max = 5s\n"), -1);
    assert_error(2, "network.read_latency_max", "above the maximum");
    ck_assert_int_eq(parse_ini("[network]\n# partitions come later\npartition = 0.1\n"), -1);
    assert_error(3, "network.partition", "unknown key");
    ck_assert_int_eq(parse_ini("[network]\neintr = 3\n"), -1);
    assert_error(2, "network.eintr", "not a probability");
}
END_TEST

START_TEST(test_ini_empty_and_comments_only) {
    ck_assert_int_eq(sched_config_try_parse_ini(&config, "", 0, &error), 0);
    ck_assert_int_eq(parse_ini("# only\n; comments\n\n"), 0);
    assert_unchanged();
}
END_TEST

START_TEST(test_ini_every_known_section) {
    ck_assert_int_eq(parse_ini("[time]\n[threads]\n[network]\n[storage]\n[process]\n[cluster]\n"
                               "[workload]\n[check]\n[chaos]\n[attrition]\n"),
                     0);
    assert_unchanged();
}
END_TEST

/* The parser honours `length`: it must not read past it looking for a NUL. */
START_TEST(test_ini_respects_length) {
    static const char text[] = "[time]\nuptime = 5sXYZ";
    ck_assert_int_eq(sched_config_try_parse_ini(&config, text, sizeof(text) - 4, &error), 0);
    ck_assert_int_eq(config.time_uptime_ns, 5 * SECOND_NS);
}
END_TEST

START_TEST(test_ini_unknown_key) {
    ck_assert_int_eq(parse_ini("[time]\nuptime = 5s\nbogus = 1\n"), -1);
    assert_error(3, "time.bogus", "unknown key");
}
END_TEST

START_TEST(test_ini_bad_value) {
    ck_assert_int_eq(parse_ini("[time]\n\n# c\nuptime = 5 s\n"), -1);
    assert_error(4, "time.uptime", "not a duration");
    ck_assert_ptr_nonnull(strstr(error.message, "5 s"));
}
END_TEST

START_TEST(test_ini_unknown_section) {
    ck_assert_int_eq(parse_ini("[time]\n\n[bogus]\nepoch = 1\n"), -1);
    assert_error(3, "bogus", "unknown section");
    assert_unchanged();
}
END_TEST

START_TEST(test_ini_key_outside_section) {
    ck_assert_int_eq(parse_ini("# header\nuptime = 5s\n[time]\n"), -1);
    assert_error(2, "uptime", "outside");
    assert_unchanged();
}
END_TEST

START_TEST(test_ini_malformed_lines) {
    ck_assert_int_eq(parse_ini("[time\n"), -1);
    assert_error(1, "", "section header");
    ck_assert_int_eq(parse_ini("[time]\nuptime 5s\n"), -1);
    assert_error(2, "", "key = value");
    ck_assert_int_eq(parse_ini("[time]\n\n = 5s\n"), -1);
    assert_error(3, "", "key = value");
    assert_unchanged();
}
END_TEST

START_TEST(test_ini_line_too_long) {
    static char text[SCHED_CONFIG_LINE_MAX + 64];
    strcpy(text, "[time]\n# ");
    size_t length = strlen(text);
    memset(text + length, 'x', SCHED_CONFIG_LINE_MAX);
    text[length + SCHED_CONFIG_LINE_MAX] = '\0';
    ck_assert_int_eq(parse_ini(text), -1);
    assert_error(2, "", "too long");
}
END_TEST

/* Parsing stops at the first error: later lines are not applied (earlier ones stay). */
START_TEST(test_ini_stops_at_error) {
    ck_assert_int_eq(parse_ini("[time]\nepoch = 77\ncall_cost = x\nuptime = 5s\n"), -1);
    assert_error(3, "time.call_cost", "not a duration");
    ck_assert_int_eq(config.time_epoch_s, 77);
    ck_assert_int_eq(config.time_uptime_ns, 100 * SECOND_NS);
}
END_TEST

static int parse_overrides(const char *text) {
    return sched_config_try_parse_overrides(&config, text, &error);
}

START_TEST(test_overrides) {
    ck_assert_int_eq(parse_overrides("time.uptime=5s,time.call_cost=1us"), 0);
    ck_assert_int_eq(config.time_uptime_ns, 5 * SECOND_NS);
    ck_assert_int_eq(config.time_call_cost_ns, 1000);
    ck_assert_int_eq(parse_overrides(" time.epoch = 7 ,\ttime.call_jitter=9ns\t"), 0);
    ck_assert_int_eq(config.time_epoch_s, 7);
    ck_assert_int_eq(config.time_call_jitter_ns, 9);
}
END_TEST

START_TEST(test_overrides_storage_and_process) {
    ck_assert_int_eq(parse_overrides("storage.sync_failure=1e-4,process.crash_at_call=7,"
                                     "storage.latency=off,storage.paths=/a:/b,"
                                     "process.crash_probability=2.5%"),
                     0);
    ck_assert_int_eq(config.storage_sync_failure, 429496);
    ck_assert_int_eq(config.process_crash_at_call, 7);
    ck_assert_int_eq(config.storage_latency, 0);
    ck_assert_str_eq(config.storage_paths, "/a:/b");
    ck_assert_int_eq(config.process_crash_probability, 107374182);
    /* A comma separates items, so a second directory is an item of its own, and malformed. */
    setup();
    ck_assert_int_eq(parse_overrides("storage.paths=/a,/b"), -1);
    assert_error(2, "/b", "key=value");
    ck_assert_str_eq(config.storage_paths, "/a");
}
END_TEST

START_TEST(test_overrides_network) {
    ck_assert_int_eq(parse_overrides("network.latency=off, network.latency_shape=exponential,"
                                     "network.eintr=1e-2,network.write_latency_min=1us"),
                     0);
    ck_assert_int_eq(config.network_latency, 0);
    ck_assert_int_eq(config.network_latency_shape, 1);
    ck_assert_int_eq(config.network_eintr, 42949672);
    ck_assert_int_eq(config.network_write_latency_min_ns, 1000);
    ck_assert_int_eq(parse_overrides("network.clog=0.5,network.latency_shape=pareto"), -1);
    assert_error(2, "network.latency_shape", "not a latency shape");
    ck_assert_int_eq(config.network_clog, SCHED_PROBABILITY_ONE / 2);
    ck_assert_int_eq(config.network_latency_shape, 1);
}
END_TEST

START_TEST(test_overrides_empty) {
    ck_assert_int_eq(parse_overrides(""), 0);
    assert_unchanged();
}
END_TEST

START_TEST(test_overrides_unknown_key_names_item) {
    ck_assert_int_eq(parse_overrides("time.uptime=5s,time.bogus=1,time.epoch=9"), -1);
    assert_error(2, "time.bogus", "unknown key");
    ck_assert_int_eq(config.time_epoch_s, 1767225600);
    ck_assert_int_eq(parse_overrides("uptime=5s"), -1);
    assert_error(1, "uptime", "unknown key");
}
END_TEST

START_TEST(test_overrides_bad_value_names_item) {
    ck_assert_int_eq(parse_overrides("time.epoch=1,time.uptime=2s,time.call_cost=fast"), -1);
    assert_error(3, "time.call_cost", "fast");
    ck_assert_int_eq(config.time_call_cost_ns, 0);
}
END_TEST

START_TEST(test_overrides_malformed_item) {
    ck_assert_int_eq(parse_overrides("time.uptime=5s, junk ,time.epoch=9"), -1);
    assert_error(2, "junk", "key=value");
    ck_assert_int_eq(parse_overrides("=5s"), -1);
    assert_error(1, "=5s", "key=value");
    ck_assert_int_eq(parse_overrides("time.epoch=1,,time.epoch=2"), -1);
    ck_assert_int_eq(error.line, 2);
}
END_TEST

static size_t to_json(char *buffer, size_t capacity) {
    return sched_config_to_json(&config, buffer, capacity);
}

/* Skips a JSON string literal at *cursor (no \u escapes expected in config JSON); copies at most
 * `capacity` - 1 bytes of it into `out`. Returns 0, or -1 when it is not a string. */
static int json_skip_string(const char **cursor, char *out, size_t capacity) {
    const char *at = *cursor;
    size_t length = 0;
    if (*at++ != '"') return -1;
    for (; *at != '"'; at++) {
        if (*at == '\0' || (unsigned char)*at < 0x20) return -1;
        if (*at == '\\' && *++at == '\0') return -1;
        if (length + 1 < capacity) out[length++] = *at;
    }
    out[length] = '\0';
    *cursor = at + 1;
    return 0;
}

static int json_skip_integer(const char **cursor) {
    const char *at = *cursor;
    if (*at == '-') at++;
    if (*at < '0' || *at > '9') return -1;
    while (*at >= '0' && *at <= '9') at++;
    *cursor = at;
    return 0;
}

/* Checks that `json` is one flat object of "key":integer or "key":"string" members with
 * distinct keys, and returns how many members it has (-1 when it is not such an object). */
static int json_members(const char *json) {
    static char keys[JSON_MEMBERS_MAX][SCHED_CONFIG_KEY_MAX];
    char ignored[SCHED_CONFIG_VALUE_MAX];
    const char *cursor = json;
    int count = 0;
    if (*cursor++ != '{') return -1;
    while (count < JSON_MEMBERS_MAX) {
        if (json_skip_string(&cursor, keys[count], sizeof(keys[count])) != 0) return -1;
        if (*cursor++ != ':') return -1;
        int failed = *cursor == '"' ? json_skip_string(&cursor, ignored, sizeof(ignored))
                                    : json_skip_integer(&cursor);
        if (failed) return -1;
        for (int i = 0; i < count; i++)
            if (strcmp(keys[i], keys[count]) == 0) return -1;
        count++;
        if (*cursor == '}') return cursor[1] == '\0' ? count : -1;
        if (*cursor++ != ',') return -1;
    }
    return -1;
}

START_TEST(test_json_defaults) {
    static char buffer[JSON_CAPACITY];
    size_t length = to_json(buffer, sizeof(buffer));
    ck_assert_uint_eq(length, strlen(buffer));
    ck_assert_msg(strncmp(buffer, DEFAULT_JSON_START, strlen(DEFAULT_JSON_START)) == 0,
                  "JSON starts \"%.120s\"", buffer);
    ck_assert_int_ge(json_members(buffer), 9);
    ck_assert_ptr_nonnull(strstr(buffer, ",\"threads.chaos\":0,"));
    ck_assert_ptr_nonnull(strstr(buffer, ",\"threads.livelock_calls\":10000000"));
    ck_assert_ptr_nonnull(strstr(buffer, ",\"threads.pin\":1"));
    ck_assert_ptr_nonnull(strstr(buffer, ",\"threads.stall_timeout\":10000000000"));
}
END_TEST

/* The storage and process keys are in the JSON too; storage.paths as an escaped string. */
START_TEST(test_json_storage_and_process) {
    static char buffer[JSON_CAPACITY];
    ck_assert_uint_ne(to_json(buffer, sizeof(buffer)), 0);
    ck_assert_ptr_nonnull(strstr(buffer, "\"storage.paths\":\".\","));
    ck_assert_ptr_nonnull(strstr(buffer, "\"storage.lost_unsynced\":2147483648,"));
    ck_assert_ptr_nonnull(strstr(buffer, "\"process.crash_probability\":0,"));
    ck_assert_ptr_nonnull(strstr(buffer, "\"process.virtual_pids\":0}"));
    set_ok("storage.paths", "/tmp/a \"b\"\\c");
    set_ok("process.crash_at_call", "99");
    set_ok("storage.stall", "100%");
    ck_assert_uint_ne(to_json(buffer, sizeof(buffer)), 0);
    ck_assert_ptr_nonnull(strstr(buffer, "\"storage.paths\":\"/tmp/a \\\"b\\\"\\\\c\","));
    ck_assert_ptr_nonnull(strstr(buffer, "\"process.crash_at_call\":99,"));
    ck_assert_ptr_nonnull(strstr(buffer, "\"storage.stall\":4294967296,"));
    ck_assert_int_ge(json_members(buffer), 37); /* every key moonshim.conf(5) lists */
}
END_TEST

/* The network keys are in the JSON too, the shape as its number. */
START_TEST(test_json_network) {
    static char buffer[JSON_CAPACITY];
    ck_assert_uint_ne(to_json(buffer, sizeof(buffer)), 0);
    ck_assert_ptr_nonnull(strstr(buffer, "\"network.latency\":1,"));
    ck_assert_ptr_nonnull(strstr(buffer, "\"network.latency_shape\":0,"));
    ck_assert_ptr_nonnull(strstr(buffer, "\"network.connect_latency_max\":11000000,"));
    ck_assert_ptr_nonnull(strstr(buffer, "\"network.close_rst\":2147483648,"));
    int members = json_members(buffer);
    set_ok("network.latency_shape", "bimodal");
    set_ok("network.peer_latency", "3ms");
    set_ok("network.bit_flip", "100%");
    ck_assert_uint_ne(to_json(buffer, sizeof(buffer)), 0);
    ck_assert_ptr_nonnull(strstr(buffer, "\"network.latency_shape\":2,"));
    ck_assert_ptr_nonnull(strstr(buffer, "\"network.peer_latency\":3000000,"));
    ck_assert_ptr_nonnull(strstr(buffer, "\"network.bit_flip\":4294967296,"));
    ck_assert_int_eq(json_members(buffer), members);
    for (size_t i = 0; i < NETWORK_PROBABILITY_KEY_COUNT; i++) {
        char member[SCHED_CONFIG_KEY_MAX + 4];
        snprintf(member, sizeof(member), "\"%s\":", network_probability_keys[i].name);
        ck_assert_msg(strstr(buffer, member) != 0, "%s missing from the JSON",
                      network_probability_keys[i].name);
    }
}
END_TEST

/* The checker itself must reject what is not a flat object with distinct keys. */
START_TEST(test_json_checker_rejects) {
    ck_assert_int_eq(json_members("{\"a\":1,\"b\":\"x\"}"), 2);
    ck_assert_int_eq(json_members("{\"a\":1,\"a\":2}"), -1);
    ck_assert_int_eq(json_members("{\"a\":1,}"), -1);
    ck_assert_int_eq(json_members("{\"a\":1"), -1);
    ck_assert_int_eq(json_members("{\"a\":x}"), -1);
    ck_assert_int_eq(json_members("{\"a\":1}}"), -1);
}
END_TEST

START_TEST(test_json_follows_values) {
    static char buffer[JSON_CAPACITY];
    set_ok("time.epoch", "0");
    set_ok("time.call_jitter", "250ms");
    ck_assert_uint_ne(to_json(buffer, sizeof(buffer)), 0);
    ck_assert_ptr_nonnull(strstr(buffer, "\"time.epoch\":0,"));
    ck_assert_ptr_nonnull(strstr(buffer, "\"time.call_jitter\":250000000,"));
    ck_assert_int_ge(json_members(buffer), 9);
}
END_TEST

START_TEST(test_json_capacity) {
    static char full[JSON_CAPACITY], buffer[JSON_CAPACITY];
    size_t length = to_json(full, sizeof(full));
    ck_assert_uint_gt(length, 0);
    ck_assert_uint_eq(to_json(buffer, length + 1), length);
    ck_assert_str_eq(buffer, full);
    memset(buffer, 0x5a, sizeof(buffer));
    ck_assert_uint_eq(to_json(buffer, length), 0);
    ck_assert_uint_eq(strlen(buffer), length - 1);
    ck_assert_int_eq(buffer[length], 0x5a);
    ck_assert_uint_eq(to_json(buffer, 1), 0);
    ck_assert_str_eq(buffer, "");
}
END_TEST

/* Regression (found by these tests): sched_config_parse_probability() stops accumulating digits
 * past 10^17 but did not count dropped integer digits into the exponent, so a mantissa of 20 or
 * more integer digits with a negative exponent read 10, 100, ... times too small:
 * "10000000000000000000e-19" (exactly 1) parsed as 0.1. */
START_TEST(test_probability_long_mantissa) {
    ck_assert_int_eq(probability("1000000000000000000e-18"), SCHED_PROBABILITY_ONE);
    ck_assert_int_eq(probability("10000000000000000000e-19"), SCHED_PROBABILITY_ONE);
    ck_assert_int_eq(probability("500000000000000000000e-21"), SCHED_PROBABILITY_ONE / 2);
}
END_TEST

/* Regression (found by these tests): in a file, a value longer than SCHED_CONFIG_VALUE_MAX - 1
 * characters failed before the key was known, so the error said "expected 'key = value'" with an
 * empty key, where config.h promises errors that name the key. */
START_TEST(test_ini_long_value_names_key) {
    static char text[SCHED_CONFIG_VALUE_MAX + 64];
    strcpy(text, "[storage]\npaths = ");
    size_t length = strlen(text);
    memset(text + length, 'p', SCHED_CONFIG_VALUE_MAX);
    strcpy(text + length + SCHED_CONFIG_VALUE_MAX, "\n");
    ck_assert_int_eq(parse_ini(text), -1);
    assert_error(2, "storage.paths", "too long");
}
END_TEST

static Suite *config_suite(void) {
    Suite *suite = suite_create("config");
    TCase *keys = tcase_create("keys");
    tcase_add_checked_fixture(keys, setup, 0);
    tcase_add_test(keys, test_defaults);
    tcase_add_test(keys, test_each_key);
    tcase_add_test(keys, test_storage_process_defaults);
    tcase_add_test(keys, test_storage_process_keys);
    tcase_add_test(keys, test_storage_process_probability_keys);
    tcase_add_test(keys, test_storage_booleans);
    tcase_add_test(keys, test_storage_process_bounds);
    tcase_add_test(keys, test_storage_paths_string);
    tcase_add_test(keys, test_network_defaults);
    tcase_add_test(keys, test_network_keys);
    tcase_add_test(keys, test_network_probability_keys);
    tcase_add_test(keys, test_network_shape);
    tcase_add_test(keys, test_network_booleans);
    tcase_add_test(keys, test_network_bounds);
    tcase_add_test(keys, test_integer_forms);
    tcase_add_test(keys, test_set_unknown_key);
    tcase_add_test(keys, test_set_bad_values);
    tcase_add_test(keys, test_set_below_minimum);
    tcase_add_test(keys, test_set_above_maximum);
    suite_add_tcase(suite, keys);
    TCase *durations = tcase_create("durations");
    tcase_add_test(durations, test_duration_units);
    tcase_add_test(durations, test_duration_limits);
    tcase_add_test(durations, test_duration_bad);
    suite_add_tcase(suite, durations);
    TCase *probabilities = tcase_create("probabilities");
    tcase_add_test(probabilities, test_probability_forms);
    tcase_add_test(probabilities, test_probability_bad);
    suite_add_tcase(suite, probabilities);
    TCase *ini = tcase_create("ini");
    tcase_add_checked_fixture(ini, setup, 0);
    tcase_add_test(ini, test_ini_full);
    tcase_add_test(ini, test_ini_storage_and_process);
    tcase_add_test(ini, test_ini_storage_errors_name_key_and_line);
    tcase_add_test(ini, test_ini_network);
    tcase_add_test(ini, test_ini_network_errors_name_key_and_line);
    tcase_add_test(ini, test_ini_empty_and_comments_only);
    tcase_add_test(ini, test_ini_every_known_section);
    tcase_add_test(ini, test_ini_respects_length);
    tcase_add_test(ini, test_ini_unknown_key);
    tcase_add_test(ini, test_ini_bad_value);
    tcase_add_test(ini, test_ini_unknown_section);
    tcase_add_test(ini, test_ini_key_outside_section);
    tcase_add_test(ini, test_ini_malformed_lines);
    tcase_add_test(ini, test_ini_line_too_long);
    tcase_add_test(ini, test_ini_stops_at_error);
    suite_add_tcase(suite, ini);
    TCase *overrides = tcase_create("overrides");
    tcase_add_checked_fixture(overrides, setup, 0);
    tcase_add_test(overrides, test_overrides);
    tcase_add_test(overrides, test_overrides_storage_and_process);
    tcase_add_test(overrides, test_overrides_network);
    tcase_add_test(overrides, test_overrides_empty);
    tcase_add_test(overrides, test_overrides_unknown_key_names_item);
    tcase_add_test(overrides, test_overrides_bad_value_names_item);
    tcase_add_test(overrides, test_overrides_malformed_item);
    suite_add_tcase(suite, overrides);
    TCase *json = tcase_create("json");
    tcase_add_checked_fixture(json, setup, 0);
    tcase_add_test(json, test_json_defaults);
    tcase_add_test(json, test_json_storage_and_process);
    tcase_add_test(json, test_json_network);
    tcase_add_test(json, test_json_checker_rejects);
    tcase_add_test(json, test_json_follows_values);
    tcase_add_test(json, test_json_capacity);
    suite_add_tcase(suite, json);
    TCase *regressions = tcase_create("regressions");
    tcase_add_checked_fixture(regressions, setup, 0);
    tcase_add_test(regressions, test_probability_long_mantissa);
    tcase_add_test(regressions, test_ini_long_value_names_key);
    suite_add_tcase(suite, regressions);
    return suite;
}

int main(void) {
    return unit_run(config_suite());
}
