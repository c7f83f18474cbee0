/* hash.c: FNV-1a, 64-bit. */
#include "hash.h"

#define FNV_PRIME 0x100000001b3ull

void sched_hash_init(struct sched_hash *hash) {
    hash->value = SCHED_HASH_INITIAL;
}

void sched_hash_bytes(struct sched_hash *hash, const void *bytes, size_t length) {
    const unsigned char *byte = bytes;
    uint64_t value = hash->value;
    for (size_t i = 0; i < length; i++) {
        value ^= byte[i];
        value *= FNV_PRIME;
    }
    hash->value = value;
}

void sched_hash_u64(struct sched_hash *hash, uint64_t value) {
    uint64_t state = hash->value;
    for (int i = 0; i < 8; i++) {
        state ^= value & 0xff;
        state *= FNV_PRIME;
        value >>= 8;
    }
    hash->value = state;
}
