/* randomness.c: every source of randomness comes from the seed; prints a digest of all of it. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static void show(const char *name, const unsigned char *bytes, size_t length) {
    int nonzero = 0;
    printf("%s ", name);
    for (size_t i = 0; i < length; i++) {
        printf("%02x", bytes[i]);
        nonzero |= bytes[i];
    }
    printf("\n");
    CHECK(nonzero);
}

int main(void) {
    unsigned char a[32], b[32];
    CHECK(getrandom(a, sizeof(a), 0) == (ssize_t)sizeof(a));
    CHECK(getrandom(b, sizeof(b), GRND_NONBLOCK) == (ssize_t)sizeof(b));
    CHECK(memcmp(a, b, sizeof(a)) != 0); /* successive draws differ */
    show("getrandom", a, sizeof(a));
    CHECK(getentropy(a, sizeof(a)) == 0);
    show("getentropy", a, sizeof(a));
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(read(fd, a, sizeof(a)) == (ssize_t)sizeof(a));
    show("urandom-read", a, sizeof(a));
    struct iovec parts[2] = {{a, 8}, {b, 8}};
    CHECK(readv(fd, parts, 2) == 16);
    show("urandom-readv", a, 8);
    CHECK(pread(fd, a, 16, 0) == 16);
    show("urandom-pread", a, 16);
    int copy = dup(fd);
    CHECK(copy >= 0 && read(copy, a, 8) == 8);
    show("urandom-dup", a, 8);
    CHECK(close(copy) == 0 && close(fd) == 0);
    fd = open("/dev/random", O_RDONLY);
    CHECK(fd >= 0 && read(fd, a, 16) == 16 && close(fd) == 0);
    show("random-read", a, 16);
    FILE *stream = fopen("/dev/urandom", "re");
    CHECK(stream && fread(a, 1, sizeof(a), stream) == sizeof(a) && fclose(stream) == 0);
    show("urandom-fread", a, sizeof(a));
    const unsigned char *at_random = (const unsigned char *)getauxval(AT_RANDOM);
    CHECK(at_random);
    show("at-random", at_random, 16);
    uint32_t value = arc4random();
    show("arc4random", (const unsigned char *)&value, sizeof(value));
    srand((unsigned)at_random[0]);
    printf("rand %d\n", rand());
    return 0;
}
