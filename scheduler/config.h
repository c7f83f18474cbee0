/* config.h: the run's configuration: defaults, the INI file, and `key=value,...` overrides.
 *
 * One table (config.c) lists every key with its type, default and documentation; the INI parser,
 * the override parser, the trace header and moonshim.conf(5) all follow it. Errors name the key and
 * the line (or the override item) and change nothing already parsed after the error. Pure: the
 * caller reads the file and passes its text. */
#ifndef MOON_SCHED_CONFIG_H
#define MOON_SCHED_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sched_limits.h"

struct sched_config {
    /* [time] */
    int64_t time_epoch_s;          /* CLOCK_REALTIME at the start of the run, Unix seconds */
    int64_t time_uptime_ns;        /* CLOCK_MONOTONIC/BOOTTIME at the start of the run */
    int64_t time_call_cost_ns;     /* virtual time every intercepted call costs */
    int64_t time_call_jitter_ns;   /* plus a seeded uniform extra in [0, jitter] */
    int64_t time_cpu_per_call_ns;  /* CPU-time clocks advance this much per intercepted call */
    int64_t time_external_wall;    /* boolean: waits on the outside world last, in wall time, up
                                    * to the next virtual deadline (else deadlines never wait) */
    /* [threads] */
    int64_t threads_chaos;         /* boolean: rr-style priority chaos instead of uniform choice */
    int64_t threads_livelock_calls;/* calls without blocking or time moving before a livelock; 0 off */
    int64_t threads_pin;           /* boolean: pin the whole process to one CPU */
    int64_t threads_stall_timeout_ns; /* wall time a thread may hold the baton without a call
                                       * while others wait; 0 off (enforced by the shim) */
    /* [storage] probabilities are per operation, as fractions of 2^32 (SCHED_PROBABILITY_ONE) */
    char storage_paths[SCHED_CONFIG_VALUE_MAX]; /* comma-separated directories that are modelled */
    int64_t storage_latency;       /* boolean: the performance model costs virtual time */
    int64_t storage_read_latency_min_ns, storage_read_latency_max_ns;
    int64_t storage_write_latency_min_ns, storage_write_latency_max_ns;
    int64_t storage_sync_latency_min_ns, storage_sync_latency_max_ns;
    int64_t storage_iops;
    int64_t storage_bandwidth;     /* bytes per second */
    int64_t storage_read_corruption, storage_write_corruption;
    int64_t storage_misdirected_read, storage_misdirected_write;
    int64_t storage_phantom_write, storage_sync_failure;
    int64_t storage_write_error, storage_short_write;
    int64_t storage_fsyncgate;     /* boolean: a failed fsync drops the unsynced data */
    int64_t storage_stall;         /* probability an operation stalls */
    int64_t storage_stall_min_ns, storage_stall_max_ns;
    int64_t storage_swarm;         /* boolean: the seed picks the fault families and rates */
    int64_t storage_fast_local;    /* boolean: 1 us per operation, no faults (quick runs) */
    int64_t storage_torn_writes;   /* boolean: at a crash, unsynced sectors may be torn */
    int64_t storage_lost_unsynced; /* probability an unsynced write or metadata change is lost */
    /* [network] */
    int64_t network_latency;       /* boolean: socket operations cost virtual time */
    int64_t network_latency_shape; /* enum fault_network_shape */
    int64_t network_connect_latency_min_ns, network_connect_latency_max_ns;
    int64_t network_accept_latency_min_ns, network_accept_latency_max_ns;
    int64_t network_read_latency_min_ns, network_read_latency_max_ns;
    int64_t network_write_latency_min_ns, network_write_latency_max_ns;
    int64_t network_peer_latency_ns;
    int64_t network_connect_refused, network_connect_hang;
    int64_t network_close, network_close_rst, network_half_open;
    int64_t network_short, network_clog, network_bit_flip;
    int64_t network_eintr, network_spurious_ready, network_accept_error;
    int64_t network_swarm;         /* boolean: the seed picks the failure families and rates */
    /* [process] */
    int64_t process_crash_at_call; /* crash at this intercepted call (event number); 0 off */
    int64_t process_crash_at_ns;   /* crash at this much virtual time into the run; 0 off */
    int64_t process_crash_probability;
    /* A graceful-shutdown request: SIGTERM at this much virtual time into the run (0 off), or at
     * each call with this probability; SIGKILL when the process is still there after the grace
     * period. */
    int64_t process_terminate_at_ns;
    int64_t process_terminate_probability;
    int64_t process_terminate_grace_ns;
    int64_t process_virtual_pids;  /* boolean: getpid & co. return run-determined numbers */
};

#define SCHED_PROBABILITY_ONE (1ll << 32)

struct sched_config_error {
    int line;                      /* INI line, or 1-based override item; 0 when not applicable */
    char key[SCHED_CONFIG_KEY_MAX];
    char message[SCHED_ERROR_MESSAGE_MAX];
};

void sched_config_defaults(struct sched_config *config);

/* Sets one key ("section.key") from its text value. 0, or -1 with *error filled. */
int sched_config_try_set(struct sched_config *config, const char *key, const char *value,
                         struct sched_config_error *error);
/* Parses INI text: [section] headers, key = value lines, '#' or ';' comments. */
int sched_config_try_parse_ini(struct sched_config *config, const char *text, size_t length,
                               struct sched_config_error *error);
/* Parses "key=value,key=value" (MOONSHIM_FAULTS). Whitespace around items is ignored. */
int sched_config_try_parse_overrides(struct sched_config *config, const char *text,
                                     struct sched_config_error *error);
/* Writes the whole configuration as one JSON object (for the trace header). Returns its length,
 * or 0 when it did not fit in `capacity` (capacity must be >= 1). */
size_t sched_config_to_json(const struct sched_config *config, char *buffer, size_t capacity);

/* Probabilities: a decimal in [0, 1] ("0.01", "1e-4", "1") or a percentage ("2.5%"), as a
 * fraction of SCHED_PROBABILITY_ONE. */
int sched_config_parse_probability(const char *text, int64_t *q32);
/* Durations: an integer followed by ns, us, ms, s, m or h ("0" alone is allowed). */
int sched_config_parse_duration(const char *text, int64_t *nanoseconds);

#endif
