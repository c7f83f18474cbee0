/* random.c: every source of randomness a program can reach, drawn from the seed.
 *
 * getrandom (and so getentropy and glibc's arc4random) is trapped; AT_RANDOM is rewritten at
 * start-up; /dev/urandom and /dev/random are recognised when opened through the PLT (fd.c marks
 * them, fstat confirms the device on each read) and their reads are filled from the seed; stdio
 * streams on them are replaced by fopencookie streams, because stdio reads with an internal call
 * the PLT never sees. Each request takes one value from the core's RANDOM stream and expands it
 * locally, so the bytes depend only on the seed and the order of requests. */
#include <errno.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/syscall.h>

#include "shim.h"

/* The kernel's largest single getrandom/urandom transfer (32 MiB - 1). */
#define RANDOM_TRANSFER_MAX 33554431ul

long shim_emulate_getrandom(const long args[6]) {
    void *buffer = (void *)args[0];
    unsigned long length = (unsigned long)args[1];
    unsigned int flags = (unsigned int)args[2];
    if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) return -EINVAL;
    if ((flags & GRND_RANDOM) && (flags & GRND_INSECURE)) return -EINVAL;
    if (length > RANDOM_TRANSFER_MAX) length = RANDOM_TRANSFER_MAX;
    if (length > 0 && !buffer) return -EFAULT;
    shim_random_fill(SYS_getrandom, buffer, length);
    return (long)length;
}

void shim_random_rewrite_at_random(void) {
    /* glibc has already taken its stack canary and pointer guard from these bytes; what changes is
     * what the program itself reads through getauxval(AT_RANDOM). */
    unsigned char *bytes = (unsigned char *)getauxval(AT_RANDOM);
    if (bytes) shim_random_fill(SHIM_CALL_AT_RANDOM, bytes, 16);
}

long shim_random_read(int fd, void *buffer, size_t length) {
    if (length > RANDOM_TRANSFER_MAX) length = RANDOM_TRANSFER_MAX;
    shim_random_fill(SHIM_CALL_READ_RANDOM, buffer, length);
    (void)fd;
    return (long)length;
}

/* Flips 1 to 32 bits of `bytes`, chosen by `seed` (storage and network corruption). */
void shim_flip_bits(unsigned char *bytes, uint64_t length, uint64_t seed) {
    if (length == 0) return;
    struct sched_prng prng;
    sched_prng_seed(&prng, seed);
    uint64_t flips = sched_prng_range(&prng, 1, 32);
    for (uint64_t i = 0; i < flips; i++) {
        uint64_t bit = sched_prng_below(&prng, length * 8);
        bytes[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
}
