/* storage_loop.c: N block overwrites of one file, timed from outside by bench/run.sh.
 *
 * Usage: storage_loop sync|nosync FILE N
 *   sync    N times: pwrite(4 KiB) over one block of FILE, then fdatasync(FILE)
 *   nosync  the same pwrites with no fdatasync
 *
 * FILE is created (or truncated) and filled with BLOCKS blocks of 4 KiB, then fdatasync'ed, and its
 * directory fsync'ed (so its creation is durable too, as a careful program makes it), before the
 * loop, whatever N is: that set-up is part of the N = 0 run that run.sh subtracts. Write i then
 * goes to block i % BLOCKS, so every timed pwrite overwrites bytes that are already in the file
 * (under the shim, with FILE under storage.paths, the undo log saves the old bytes first) and every
 * fdatasync has one dirty block to make durable.
 *
 * The program never times itself: under the shim every clock is virtual, so only a clock outside
 * the process (hyperfine, date) measures real cost. It prints one checksum line, and fails
 * (exit 1) on the first call that fails or is short. Usage errors exit 2. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BLOCK = 4096, BLOCKS = 256 };

static const char usage[] = "usage: storage_loop sync|nosync FILE N\n";

/* Writes one whole block at block index `index`; fails (returns -1 with a message) on an error
 * or a short write. */
static int write_block(int fd, const unsigned char *block, uint64_t index) {
    ssize_t written = pwrite(fd, block, BLOCK, (off_t)(index * BLOCK));
    if (written != BLOCK) {
        fprintf(stderr, "storage_loop: pwrite returned %zd: %s\n", written,
                written < 0 ? strerror(errno) : "short write");
        return -1;
    }
    return 0;
}

static int sync_file(int fd) {
    if (fdatasync(fd) != 0) {
        fprintf(stderr, "storage_loop: fdatasync: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* fsyncs the directory that holds `path`; fails (returns -1 with a message) if it cannot. */
static int sync_directory(const char *path) {
    char copy[4096];
    if (strlen(path) >= sizeof(copy)) {
        fprintf(stderr, "storage_loop: path too long: %s\n", path);
        return -1;
    }
    strcpy(copy, path);
    const char *directory = dirname(copy);
    int fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        fprintf(stderr, "storage_loop: fsync of directory %s: %s\n", directory, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Parses a decimal count; fails (returns -1) on anything else, including a sign. */
static int parse_count(const char *text, uint64_t *count) {
    if (text[0] < '0' || text[0] > '9') return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') return -1;
    *count = (uint64_t)value;
    return 0;
}

int main(int argc, char **argv) {
    uint64_t count = 0;
    if (argc != 4 || parse_count(argv[3], &count) != 0) {
        fputs(usage, stderr);
        return 2;
    }
    int sync_each = 0;
    if (strcmp(argv[1], "sync") == 0) {
        sync_each = 1;
    } else if (strcmp(argv[1], "nosync") != 0) {
        fprintf(stderr, "storage_loop: unknown workload '%s'\n", argv[1]);
        fputs(usage, stderr);
        return 2;
    }
    int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "storage_loop: open %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    static unsigned char block[BLOCK];
    memset(block, 'a', sizeof(block));
    for (uint64_t i = 0; i < BLOCKS; i++) {
        if (write_block(fd, block, i) != 0) goto fail;
    }
    if (sync_file(fd) != 0 || sync_directory(argv[2]) != 0) goto fail;

    uint64_t checksum = 0;
    for (uint64_t i = 0; i < count; i++) {
        block[i % BLOCK] = (unsigned char)i; /* a little new content in every write */
        if (write_block(fd, block, i % BLOCKS) != 0) goto fail;
        if (sync_each && sync_file(fd) != 0) goto fail;
        checksum += block[(i * 7) % BLOCK];
    }
    if (close(fd) != 0) {
        fprintf(stderr, "storage_loop: close: %s\n", strerror(errno));
        return 1;
    }
    printf("%s %" PRIu64 " checksum %" PRIu64 "\n", argv[1], count, checksum);
    return 0;
fail:
    close(fd);
    return 1;
}
