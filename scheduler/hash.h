/* hash.h: the running hash of a run's event stream (64-bit FNV-1a over fixed-width fields).
 *
 * FNV-1a is not cryptographic; it only has to make two different event streams disagree, and it is
 * simple enough that anyone can recompute it from a trace. Fields are fed as little-endian
 * 64-bit words so the hash is the same on every host. */
#ifndef MOON_SCHED_HASH_H
#define MOON_SCHED_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SCHED_HASH_INITIAL 0xcbf29ce484222325ull

struct sched_hash {
    uint64_t value;
};

void sched_hash_init(struct sched_hash *hash);
void sched_hash_bytes(struct sched_hash *hash, const void *bytes, size_t length);
void sched_hash_u64(struct sched_hash *hash, uint64_t value);

#endif
