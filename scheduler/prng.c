/* prng.c: xoshiro256** and splitmix64, written from the published algorithm descriptions. */
#include "prng.h"

#include "moon_assert.h"

static uint64_t rotate_left(uint64_t value, int bits) {
    return (value << bits) | (value >> (64 - bits));
}

uint64_t sched_splitmix64(uint64_t *state) {
    *state += 0x9e3779b97f4a7c15ull;
    uint64_t mixed = *state;
    mixed = (mixed ^ (mixed >> 30)) * 0xbf58476d1ce4e5b9ull;
    mixed = (mixed ^ (mixed >> 27)) * 0x94d049bb133111ebull;
    return mixed ^ (mixed >> 31);
}

void sched_prng_seed(struct sched_prng *prng, uint64_t seed) {
    uint64_t expander = seed;
    for (int i = 0; i < 4; i++) prng->state[i] = sched_splitmix64(&expander);
    /* splitmix64 never yields four zero words in a row, but the all-zero state is the one state
     * xoshiro cannot leave, so say it. */
    MOON_ASSERT((prng->state[0] | prng->state[1] | prng->state[2] | prng->state[3]) != 0);
}

void sched_prng_stream(struct sched_prng *prng, uint64_t seed, uint64_t stream) {
    /* Mix the stream number through splitmix before combining so that seed s, stream k and
     * seed s', stream k' cannot collide by simple arithmetic. */
    uint64_t stream_mix = stream * 0xd1342543de82ef95ull;
    uint64_t key = sched_splitmix64(&stream_mix);
    sched_prng_seed(prng, seed ^ key);
}

uint64_t sched_prng_next(struct sched_prng *prng) {
    uint64_t *s = prng->state;
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t shifted = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= shifted;
    s[3] = rotate_left(s[3], 45);
    return result;
}

uint64_t sched_prng_below(struct sched_prng *prng, uint64_t bound) {
    MOON_ASSERT(bound > 0);
    /* Rejection sampling: discard the top partial block so every residue is equally likely. The
     * loop ends with probability 1; each round succeeds with probability > 1/2. */
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t value = sched_prng_next(prng);
        if (value >= threshold) return value % bound;
    }
}

uint64_t sched_prng_range(struct sched_prng *prng, uint64_t low, uint64_t high) {
    MOON_ASSERT(low <= high);
    if (low == 0 && high == UINT64_MAX) return sched_prng_next(prng);
    return low + sched_prng_below(prng, high - low + 1);
}

int sched_prng_chance(struct sched_prng *prng, uint32_t probability_q32) {
    return (uint32_t)(sched_prng_next(prng) >> 32) < probability_q32;
}

void sched_prng_fill(struct sched_prng *prng, void *buffer, size_t length) {
    unsigned char *out = buffer;
    while (length > 0) {
        uint64_t word = sched_prng_next(prng);
        for (int i = 0; i < 8 && length > 0; i++, length--) {
            *out++ = (unsigned char)(word & 0xff);
            word >>= 8;
        }
    }
}

int sched_prng_draw_q32(struct sched_prng *prng, int64_t probability_q32) {
    uint32_t value = (uint32_t)(sched_prng_next(prng) >> 32);
    if (probability_q32 <= 0) return 0;
    if (probability_q32 >= (1ll << 32)) return 1;
    return value < (uint32_t)probability_q32;
}
