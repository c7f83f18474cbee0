/* prng.h: seeded pseudo-random streams (xoshiro256**, seeded through splitmix64).
 *
 * xoshiro256** (Blackman and Vigna, 2018) is small, fast, has 256 bits of state and passes BigCrush;
 * splitmix64 expands one 64-bit value into a well-mixed state, as its authors recommend. Each purpose
 * (schedule, application randomness, time, network, storage, process) gets its own stream derived
 * from the seed and a stream number, so adding a draw to one family never shifts another family's
 * sequence. Pure: the state is an explicit argument. */
#ifndef MOON_SCHED_PRNG_H
#define MOON_SCHED_PRNG_H

#include <stddef.h>
#include <stdint.h>

struct sched_prng {
    uint64_t state[4];
};

/* Stream numbers are part of the replay format: never renumber, only append. */
enum sched_stream {
    SCHED_STREAM_SCHEDULE = 1, /* which runnable thread goes next */
    SCHED_STREAM_RANDOM = 2,   /* bytes the application sees (getrandom, /dev/urandom, AT_RANDOM) */
    SCHED_STREAM_TIME = 3,     /* time-model draws (per-call cost jitter, drift) */
    SCHED_STREAM_NETWORK = 4,
    SCHED_STREAM_STORAGE = 5,
    SCHED_STREAM_PROCESS = 6,
    SCHED_STREAM_SITES = 7,    /* call-site activation (two-level BUGGIFY) */
    SCHED_STREAM_TERMINATE = 8, /* process.terminate_probability */
    SCHED_STREAM_COUNT = 9,
};

uint64_t sched_splitmix64(uint64_t *state);
void sched_prng_seed(struct sched_prng *prng, uint64_t seed);
/* The stream for a purpose: equal (seed, stream) give equal sequences, different ones differ. */
void sched_prng_stream(struct sched_prng *prng, uint64_t seed, uint64_t stream);
uint64_t sched_prng_next(struct sched_prng *prng);
/* Uniform in [0, bound) without modulo bias; bound must be > 0. */
uint64_t sched_prng_below(struct sched_prng *prng, uint64_t bound);
/* Uniform in [low, high], inclusive; asserts low <= high. */
uint64_t sched_prng_range(struct sched_prng *prng, uint64_t low, uint64_t high);
/* True with probability numerator / 2^32. */
int sched_prng_chance(struct sched_prng *prng, uint32_t probability_q32);
/* True with probability probability_q32 / 2^32 (0 and above 2^32 included), always drawing
 * exactly one value: which draws a fault family takes never depends on whether it is on. */
int sched_prng_draw_q32(struct sched_prng *prng, int64_t probability_q32);
/* Fill a buffer: the bytes depend only on the generator state, little-endian on every host. */
void sched_prng_fill(struct sched_prng *prng, void *buffer, size_t length);

#endif
