/* storage.h: the storage fault model as decision functions (TigerBeetle's taxonomy, moonpool's
 * defaults): what one file operation costs and whether it fails, and what a crash leaves behind.
 *
 * Pure: the configuration and a PRNG stream come in, a verdict goes out; the shim applies it. */
#ifndef MOON_FAULTS_STORAGE_H
#define MOON_FAULTS_STORAGE_H

#include <stdint.h>

#include "../scheduler/config.h"
#include "../scheduler/prng.h"

#define FAULT_STORAGE_SECTOR 512

enum fault_storage_op {
    FAULT_STORAGE_READ = 1,
    FAULT_STORAGE_WRITE = 2,
    FAULT_STORAGE_SYNC = 3,
    FAULT_STORAGE_METADATA = 4, /* create, rename, unlink, link, mkdir, truncate */
};

/* Verdict numbers travel in decisions and traces: append only. */
enum fault_storage_verdict {
    FAULT_STORAGE_OK = 0,
    FAULT_STORAGE_CORRUPT = 1,    /* parameter: seed of the bit flips */
    FAULT_STORAGE_MISDIRECT = 2,  /* parameter: seed of the wrong offset */
    FAULT_STORAGE_PHANTOM = 3,    /* acknowledged, but gone after a crash even if synced */
    FAULT_STORAGE_SYNC_FAIL = 4,  /* fsync returns EIO; the data stays unsynced */
    FAULT_STORAGE_EIO = 5,
    FAULT_STORAGE_ENOSPC = 6,
    FAULT_STORAGE_SHORT = 7,      /* parameter: how many bytes to transfer, >= 1 */
};

struct fault_storage_decision {
    int32_t verdict;
    uint64_t parameter;
    int64_t latency_ns;
};

/* The device's state for the throughput model: busy until this virtual time. */
struct fault_storage_device {
    int64_t busy_until_ns;
};

/* Decides one operation of `length` bytes starting at virtual time `now_ns`. Probabilistic
 * faults are considered only when `site_active` (two-level activation, decided by the caller). */
void fault_storage_decide(const struct sched_config *config, struct sched_prng *stream,
                          struct fault_storage_device *device, int64_t now_ns, int op,
                          uint64_t length, int site_active, struct fault_storage_decision *decision);

enum fault_storage_fate {
    FAULT_FATE_NEW = 0,     /* the sector holds what was written */
    FAULT_FATE_OLD = 1,     /* the sector holds what it held before */
    FAULT_FATE_GARBAGE = 2, /* the sector holds neither (a torn write) */
};

/* storage.fast_local: a fast local disk with no faults (1 us per operation); crashes still lose
 * unsynced data. Applied before swarm, which it switches off. */
void fault_storage_fast_local(struct sched_config *config);
/* storage.swarm: overwrites the fault probabilities with a seed-chosen set (DESIGN.md's swarm
 * mode), so a sweep explores combinations no hand-written profile would. */
void fault_storage_swarm(struct sched_config *config, struct sched_prng *stream);
/* At a crash: is this unsynced change lost? (storage.lost_unsynced) */
int fault_storage_crash_loses(const struct sched_config *config, struct sched_prng *stream);
/* At a crash, for a lost write that extended the file: does the new size survive (with the new
 * sectors torn: zeros for "old", garbage, or new), or does the file shrink back? */
int fault_storage_crash_keeps_size(const struct sched_config *config, struct sched_prng *stream);
/* At a crash, for a lost data write: the fate of one of its sectors. */
enum fault_storage_fate fault_storage_sector_fate(const struct sched_config *config,
                                                  struct sched_prng *stream);

#endif
