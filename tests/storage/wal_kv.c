/* wal_kv.c: a small write-ahead-log key-value store that the storage fault layer must prove
 * correct or catch. C17 and libc only: it runs natively and, unmodified, under the shim.
 *   wal_kv DIR write COUNT ACKFILE [VARIANT]   recover DIR/wal.log, append COUNT keys, ack each
 *   wal_kv DIR check ACKFILE [VARIANT]         recover read-only, compare with ACKFILE
 * Log: slot i (512 bytes, one sector) at offset 512*i holds one record, little-endian:
 *   magic u32 | payload length u32 | sequence u64 | offset u64 | crc u32 | payload | zeros
 * payload = key length u8, key, value. The crc is CRC-32C (Castagnoli, polynomial 0x82f63b78
 * reflected, table-driven, self-tested on "123456789") of the whole slot, crc field as zero.
 * One record per sector because writes tear at sector granularity: a torn append leaves a
 * short or all-zero last slot (recovery truncates it), while a full non-zero slot that fails
 * verification, or an empty slot with data after it, is damage (reported, never truncated).
 * Known hole: a torn sector full of garbage (moonshim's storage.torn_writes allows it), or a
 * short write finished by a second one and half lost, makes an unacknowledged last slot look
 * damaged: write refuses to go on (exit 2), and check passes. That is the price of never
 * truncating an acknowledged record that was damaged.
 * Every SNAPSHOT_EVERY records, DIR/snapshot.tmp gets the count and a rolling CRC of the records'
 * crcs; fsync, rename to DIR/snapshot, fsync DIR. A snapshot covering more than the log holds
 * reveals a lost acknowledged tail; loss after the last snapshot at the end of the log cannot be
 * seen by a single-copy log. ACKFILE (outside DIR, unmodelled, write+fsync) records promises:
 * "KEY DIGEST" (crc32c of the value) once the record's fsync returned 0, and after recovery
 * "read KEY DIGEST" for every recovered key, the value a client would be served; check compares
 * both. Lines cut by a crash are skipped: they promise nothing. Recovery reads until two reads
 * agree, so a transient read fault never causes a truncation or a wrong value.
 * VARIANTs, one bug each: no-fsync (never fsyncs the log; acks after write), no-checksum (trusts
 * what it reads: no crc check, no second read; takes the length field as it is),
 * rename-no-dirsync (no DIR fsync after the snapshot rename, yet recovery requires DIR/snapshot
 * once the log has more than SNAPSHOT_EVERY records).
 * Exit: 0 done, or every promise kept; 1 an acknowledged key missing or wrong with nothing
 * detected, a wrong value served, or the state lost (rename-no-dirsync); 2 corruption detected
 * and reported on stderr (write refuses; check: and an acknowledged key is gone); 64 usage;
 * 75 an I/O call failed (write says which; nothing after it is acknowledged). Lookups are
 * linear: tests are small. */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOT_BYTES 512
#define HEADER_BYTES 28
#define CRC_OFFSET 24
#define MAGIC 0x4b4c4157u /* "WALK" */
#define KEY_BYTES_MAX 40
#define VALUE_BYTES_MIN 8
#define VALUE_BYTES_MAX 64
#define SNAPSHOT_EVERY 8
#define READ_ATTEMPTS 5
#define FILE_BYTES_MAX (64u << 20)
#define COUNT_MAX 100000
#define PATH_BYTES_MAX 4096
_Static_assert(HEADER_BYTES + 1 + KEY_BYTES_MAX + VALUE_BYTES_MAX <= SLOT_BYTES, "record > slot");
_Static_assert(CRC_OFFSET + 4 == HEADER_BYTES, "the crc closes the header");

enum variant { VARIANT_CORRECT, VARIANT_NO_FSYNC, VARIANT_NO_CHECKSUM, VARIANT_RENAME_NO_DIRSYNC };
enum { EXIT_PASS = 0, EXIT_SILENT = 1, EXIT_DETECTED = 2, EXIT_USAGE = 64, EXIT_TEMPFAIL = 75 };
enum recovery { RECOVERY_OK, RECOVERY_CORRUPT, RECOVERY_LOST };

struct record {
    char key[KEY_BYTES_MAX + 1];
    uint32_t value_digest;
    uint32_t state; /* rolling CRC over the crc fields of every record up to this one */
};

struct log {
    struct record *records;
    uint32_t count;
    uint32_t state;
    size_t file_bytes;
    char why[256];
};

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        crc_table[n] = c;
    }
}

/* crc_update(crc_update(0, a), b) is the CRC-32C of a followed by b. */
static uint32_t crc_update(uint32_t crc, const void *data, size_t bytes) {
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < bytes; i++) crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put_le(unsigned char *p, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(value >> (8 * i));
}
static uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t value = 0;
    for (int i = bytes; i-- > 0;) value = value << 8 | p[i];
    return value;
}

/* The value of a key: 8..64 lowercase letters from an FNV-1a hash and a xorshift stream. */
static size_t value_for_key(const char *key, unsigned char *value) {
    uint64_t h = 0xcbf29ce484222325u;
    for (const char *c = key; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3u;
    size_t bytes = VALUE_BYTES_MIN + h % (VALUE_BYTES_MAX - VALUE_BYTES_MIN + 1);
    for (size_t i = 0; i < bytes; i++) {
        h ^= h << 13, h ^= h >> 7, h ^= h << 17;
        value[i] = (unsigned char)('a' + h % 26);
    }
    return bytes;
}

static const unsigned char zero_slot[SLOT_BYTES];

static uint32_t slot_checksum(const unsigned char *slot) {
    uint32_t crc = crc_update(0, slot, CRC_OFFSET);
    crc = crc_update(crc, zero_slot, 4);
    return crc_update(crc, slot + HEADER_BYTES, SLOT_BYTES - HEADER_BYTES);
}

static void slot_encode(unsigned char *slot, uint64_t sequence, const char *key,
                        const unsigned char *value, size_t value_bytes) {
    size_t key_bytes = strlen(key);
    memset(slot, 0, SLOT_BYTES);
    put_le(slot, MAGIC, 4);
    put_le(slot + 4, 1 + key_bytes + value_bytes, 4);
    put_le(slot + 8, sequence, 8);
    put_le(slot + 16, sequence * SLOT_BYTES, 8);
    slot[HEADER_BYTES] = (unsigned char)key_bytes;
    memcpy(slot + HEADER_BYTES + 1, key, key_bytes);
    memcpy(slot + HEADER_BYTES + 1 + key_bytes, value, value_bytes);
    put_le(slot + CRC_OFFSET, slot_checksum(slot), 4);
}

/* Verifies the slot at offset and decodes it; returns 0, or why the slot is not a record. */
static const char *slot_verify(const unsigned char *slot, size_t offset, enum variant variant,
                               struct record *record) {
    uint64_t length = get_le(slot + 4, 4);
    if (get_le(slot, 4) != MAGIC) return "bad magic";
    if (length < 1 || length > SLOT_BYTES - HEADER_BYTES) return "bad length";
    if (get_le(slot + 8, 8) != offset / SLOT_BYTES) return "wrong sequence number";
    if (get_le(slot + 16, 8) != offset) return "wrong offset (a misdirected write?)";
    if (variant != VARIANT_NO_CHECKSUM && slot_checksum(slot) != get_le(slot + CRC_OFFSET, 4))
        return "checksum mismatch";
    size_t key_bytes = slot[HEADER_BYTES];
    if (key_bytes > KEY_BYTES_MAX || key_bytes + 1 > length) return "bad key length";
    memcpy(record->key, slot + HEADER_BYTES + 1, key_bytes);
    record->key[key_bytes] = 0;
    record->value_digest =
        crc_update(0, slot + HEADER_BYTES + 1 + key_bytes, (size_t)length - 1 - key_bytes);
    return 0;
}

/* Reads the whole file from offset 0; returns 0 or -errno (-EFBIG past FILE_BYTES_MAX). */
static int read_whole(int fd, unsigned char **out, size_t *out_bytes) {
    size_t bytes = 0, capacity = 1 << 16;
    unsigned char *data = malloc(capacity);
    for (;;) {
        if (!data) return -ENOMEM;
        ssize_t got = pread(fd, data + bytes, capacity - bytes, (off_t)bytes);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int error = -errno; /* before free, which may clobber errno */
            return free(data), error;
        }
        if (got == 0) break;
        bytes += (size_t)got;
        if (bytes == capacity && capacity >= FILE_BYTES_MAX) return free(data), -EFBIG;
        if (bytes == capacity) data = realloc(data, capacity *= 2); /* leaks on ENOMEM: exits */
    }
    *out = data, *out_bytes = bytes;
    return 0;
}

/* Reads until two consecutive reads agree; returns 0, or -errno, or -EIO if they never do. */
static int read_stable(int fd, unsigned char **out, size_t *out_bytes) {
    unsigned char *previous = 0;
    size_t previous_bytes = 0;
    for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        unsigned char *data = 0;
        size_t bytes = 0;
        int error = read_whole(fd, &data, &bytes);
        if (error) return free(previous), error;
        if (previous && bytes == previous_bytes && memcmp(data, previous, bytes) == 0) {
            *out = data, *out_bytes = bytes;
            return free(previous), 0;
        }
        free(previous);
        previous = data, previous_bytes = bytes;
    }
    return free(previous), -EIO;
}

/* Scans slots from offset 0 into log; returns RECOVERY_CORRUPT (with log->why) when the scan
 * stopped at damage rather than at a torn or clean end. */
static int log_scan(const unsigned char *data, size_t bytes, enum variant variant,
                    struct log *log) {
    size_t offset = 0;
    const char *reason = 0;
    struct record record;
    for (; offset + SLOT_BYTES <= bytes; offset += SLOT_BYTES) {
        if ((reason = slot_verify(data + offset, offset, variant, &record))) break;
        log->state = crc_update(log->state, data + offset + CRC_OFFSET, 4);
        record.state = log->state;
        log->records[log->count++] = record;
    }
    if (!reason) return RECOVERY_OK; /* clean end, or a short (torn) last slot */
    if (memcmp(data + offset, zero_slot, SLOT_BYTES) != 0) {
        snprintf(log->why, sizeof log->why, "record %zu (offset %zu): %s", offset / SLOT_BYTES,
                 offset, reason);
        return RECOVERY_CORRUPT;
    }
    /* One append at a time is unsynced, so a crash leaves no data after an empty slot. */
    for (size_t later = offset + SLOT_BYTES; later < bytes; later++) {
        if (!data[later]) continue;
        snprintf(log->why, sizeof log->why, "record %zu (offset %zu) is empty but there is data "
                 "at offset %zu after it", offset / SLOT_BYTES, offset, later);
        return RECOVERY_CORRUPT;
    }
    return RECOVERY_OK; /* zeros to the end: an append that never reached the disk */
}

static void path_join(char *out, const char *dir, const char *name) {
    snprintf(out, PATH_BYTES_MAX, "%s/%s", dir, name);
}

/* Compares DIR/snapshot with the scanned log; returns a recovery verdict or -errno. */
static int snapshot_verify(const char *dir, enum variant variant, struct log *log) {
    char path[PATH_BYTES_MAX], text[128] = "";
    path_join(path, dir, "snapshot");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) return -errno;
    if (fd < 0 && variant == VARIANT_RENAME_NO_DIRSYNC && log->count > SNAPSHOT_EVERY) {
        snprintf(log->why, sizeof log->why, "DIR/snapshot is missing but the log has %u records",
                 log->count);
        return RECOVERY_LOST;
    }
    if (fd < 0) return RECOVERY_OK;
    unsigned char *data = 0;
    size_t bytes = 0;
    int error = read_stable(fd, &data, &bytes);
    close(fd);
    if (error) return error;
    memcpy(text, data, bytes < sizeof text - 1 ? bytes : sizeof text - 1);
    free(data);
    unsigned count, state, crc;
    char *tail = strstr(text, " crc=");
    if (!tail || sscanf(text, "wal_kv-snapshot count=%u state=%8x crc=%8x", &count, &state, &crc)
                     != 3 || crc != crc_update(0, text, (size_t)(tail - text))) {
        snprintf(log->why, sizeof log->why, "DIR/snapshot is damaged");
        return RECOVERY_CORRUPT;
    }
    if (count > log->count || (count > 0 && log->records[count - 1].state != state)) {
        snprintf(log->why, sizeof log->why, "DIR/snapshot covers %u records but the log "
                 "recovered %u, or a different prefix", count, log->count);
        return RECOVERY_CORRUPT;
    }
    return RECOVERY_OK;
}

/* Recovers DIR/wal.log (log_fd < 0: absent) into log; returns a recovery verdict or -errno. */
static int recover(const char *dir, int log_fd, enum variant variant, struct log *log) {
    unsigned char *data = 0;
    size_t bytes = 0;
    if (log_fd >= 0) { /* without a checksum there is no reason to read twice */
        int error = variant == VARIANT_NO_CHECKSUM ? read_whole(log_fd, &data, &bytes)
                                                   : read_stable(log_fd, &data, &bytes);
        if (error) return error;
    }
    log->records = calloc(bytes / SLOT_BYTES + 1, sizeof *log->records);
    if (!log->records) return free(data), -ENOMEM;
    log->file_bytes = bytes;
    int verdict = log_scan(data, bytes, variant, log);
    free(data);
    return verdict != RECOVERY_OK ? verdict : snapshot_verify(dir, variant, log);
}

/* Writes all bytes at offset (offset < 0: at the file position); returns 0 or -errno. */
static int write_all(int fd, const void *buffer, size_t bytes, off_t offset) {
    const char *p = buffer;
    while (bytes > 0) {
        ssize_t done = offset < 0 ? write(fd, p, bytes) : pwrite(fd, p, bytes, offset);
        if (done < 0 && errno == EINTR) continue;
        if (done < 0) return -errno;
        if (done == 0) return -EIO;
        p += done, bytes -= (size_t)done;
        if (offset >= 0) offset += done;
    }
    return 0;
}

static int fsync_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int error = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return error;
}

static int io_failed(int error, const char *what, const char *name) {
    fprintf(stderr, "wal_kv: %s %s failed: %s; exiting unacknowledged\n", what, name,
            strerror(-error));
    return EXIT_TEMPFAIL;
}

/* Writes the snapshot of the first count records; returns 0 or EXIT_TEMPFAIL. */
static int snapshot_write(const char *dir, uint32_t count, uint32_t state, enum variant variant) {
    char text[128], temporary[PATH_BYTES_MAX], final[PATH_BYTES_MAX];
    int prefix = snprintf(text, sizeof text, "wal_kv-snapshot count=%u state=%08x", count, state);
    int bytes = prefix + snprintf(text + prefix, sizeof text - (size_t)prefix, " crc=%08x\n",
                                  crc_update(0, text, (size_t)prefix));
    path_join(temporary, dir, "snapshot.tmp");
    path_join(final, dir, "snapshot");
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_failed(-errno, "open", temporary);
    int error = write_all(fd, text, (size_t)bytes, -1);
    if (!error && fsync(fd) != 0) error = -errno;
    close(fd);
    if (error) return io_failed(error, "write+fsync", temporary);
    if (rename(temporary, final) != 0) return io_failed(-errno, "rename to", final);
    if (variant != VARIANT_RENAME_NO_DIRSYNC && (error = fsync_path(dir)))
        return io_failed(error, "fsync", dir);
    return 0;
}

/* Appends record log->count for key, makes it durable, acknowledges it; 0 or EXIT_TEMPFAIL. */
static int append_record(int log_fd, int ack_fd, const char *key, enum variant variant,
                         struct log *log) {
    unsigned char value[VALUE_BYTES_MAX], slot[SLOT_BYTES];
    size_t value_bytes = value_for_key(key, value);
    slot_encode(slot, log->count, key, value, value_bytes);
    int error = write_all(log_fd, slot, SLOT_BYTES, (off_t)log->count * SLOT_BYTES);
    if (error) return io_failed(error, "write of", key);
    if (variant != VARIANT_NO_FSYNC && fsync(log_fd) != 0)
        return io_failed(-errno, "fsync of", key); /* no-fsync: acknowledges unsynced data */
    char line[KEY_BYTES_MAX + 16];
    int bytes = snprintf(line, sizeof line, "%s %08x\n", key, crc_update(0, value, value_bytes));
    if ((error = write_all(ack_fd, line, (size_t)bytes, -1)) || fsync(ack_fd) != 0)
        return io_failed(error ? error : -errno, "acknowledgement of", key);
    log->state = crc_update(log->state, slot + CRC_OFFSET, 4);
    log->count++;
    return 0;
}

/* Serves a read of every recovered key: "read KEY DIGEST" lines in ACKFILE, in one write (each
 * intercepted call may crash), after a newline that ends a line cut by an earlier crash. The
 * check compares each with the key's true value. Returns 0 or EXIT_TEMPFAIL. */
static int serve_reads(int ack_fd, const struct log *log) {
    size_t line_max = KEY_BYTES_MAX + 16, bytes = 1;
    char *text = malloc(log->count * line_max + 2);
    if (!text) return io_failed(-ENOMEM, "serving", "reads");
    text[0] = '\n';
    for (uint32_t i = 0; i < log->count; i++) {
        char key[KEY_BYTES_MAX + 1] = "?"; /* a garbage key must stay one visible word */
        if (log->records[i].key[0]) strcpy(key, log->records[i].key);
        for (char *c = key; *c; c++) *c = *c < '!' || *c > '~' ? '?' : *c;
        bytes += (size_t)snprintf(text + bytes, line_max, "read %s %08x\n", key,
                                  log->records[i].value_digest);
    }
    int error = write_all(ack_fd, text, bytes, -1);
    if (!error && fsync(ack_fd) != 0) error = -errno;
    free(text);
    return error ? io_failed(error, "serving reads into", "ACKFILE") : 0;
}

/* Opens DIR/wal.log read-write, creating it (then fsyncing DIR) if absent; an fd or -errno. */
static int log_open_for_write(const char *dir) {
    char path[PATH_BYTES_MAX];
    path_join(path, dir, "wal.log");
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        fd = open(path, O_RDWR | O_CLOEXEC);
    } else if (fd >= 0) {
        int error = fsync_path(dir); /* a new file's entry is durable only after this */
        if (error) return close(fd), error;
    }
    return fd >= 0 ? fd : -errno;
}

/* Reports a recovery verdict that is not RECOVERY_OK; returns the exit status it implies. */
static int recovery_failed(int verdict, const struct log *log) {
    if (verdict < 0) return io_failed(verdict, "recovery read of", "the log");
    if (verdict == RECOVERY_LOST) {
        fprintf(stderr, "wal_kv: acknowledged state missing: %s\n", log->why);
        return EXIT_SILENT;
    }
    fprintf(stderr, "wal_kv: corruption detected: %s\n", log->why);
    return EXIT_DETECTED;
}

/* The write command, into log (which the caller frees); returns the exit status. */
static int write_log(struct log *log, const char *dir, uint32_t count, const char *ack_path,
                     enum variant variant, unsigned long incarnation) {
    int log_fd = log_open_for_write(dir);
    if (log_fd < 0) return io_failed(log_fd, "open of", "DIR/wal.log");
    int verdict = recover(dir, log_fd, variant, log);
    if (verdict != RECOVERY_OK) return recovery_failed(verdict, log); /* refuse: no truncate */
    off_t end = (off_t)log->count * SLOT_BYTES;
    if (log->file_bytes > (size_t)end) {
        fprintf(stderr, "wal_kv: truncating a torn tail of %zu bytes\n",
                log->file_bytes - (size_t)end);
        if (ftruncate(log_fd, end) != 0) return io_failed(-errno, "truncate of", "DIR/wal.log");
        if (variant != VARIANT_NO_FSYNC && fsync(log_fd) != 0)
            return io_failed(-errno, "fsync after truncate of", "DIR/wal.log");
    }
    int ack_fd = open(ack_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (ack_fd < 0) return io_failed(-errno, "open of", ack_path);
    int served = serve_reads(ack_fd, log);
    if (served) return served;
    uint32_t recovered = log->count;
    for (uint32_t i = 0; i < count; i++) {
        char key[KEY_BYTES_MAX + 1];
        snprintf(key, sizeof key, "key-%lu-%u", incarnation, i);
        int status = append_record(log_fd, ack_fd, key, variant, log);
        if (!status && log->count % SNAPSHOT_EVERY == 0)
            status = snapshot_write(dir, log->count, log->state, variant);
        if (status) return status;
    }
    printf("wal_kv write: recovered %u records, appended %u (incarnation %lu)\n", recovered,
           count, incarnation);
    return close(log_fd) == 0 && close(ack_fd) == 0 ? EXIT_PASS : EXIT_TEMPFAIL;
}

static int command_write(const char *dir, uint32_t count, const char *ack_path,
                         enum variant variant, unsigned long incarnation) {
    struct log log = {0};
    int status = write_log(&log, dir, count, ack_path, variant, incarnation);
    free(log.records);
    return status;
}

/* Finds the digest of key's latest record: 1, or 0 when the log has no such key. */
static int log_lookup(const struct log *log, const char *key, uint32_t *digest) {
    for (uint32_t i = log->count; i-- > 0;) {
        if (strcmp(log->records[i].key, key) == 0)
            return *digest = log->records[i].value_digest, 1;
    }
    return 0;
}

/* Parses "KEY DIGEST\n" (exactly 8 hex digits) at line; returns 1, or 0 for anything else. */
static int parse_ack(const char *line, char *key, unsigned *digest) {
    int end = 0;
    return sscanf(line, "%40s %8x%n", key, digest, &end) == 2 && end >= 10 && line[end] == '\n' &&
           line[end - 9] == ' ';
}

/* Counts in counts[] the acknowledged keys, those log lacks, those it holds with another value,
 * the reads served, the reads that served a wrong value, and the cut lines skipped: lines that
 * are not "KEY DIGEST" or "read KEY DIGEST" were cut by a crash and promise nothing. */
static void compare_acks(FILE *acks, const struct log *log, unsigned counts[6], char *first) {
    char line[256], key[KEY_BYTES_MAX + 1];
    unsigned char value[VALUE_BYTES_MAX];
    while (fgets(line, sizeof line, acks)) {
        unsigned promised;
        uint32_t digest;
        int served = strncmp(line, "read ", 5) == 0;
        if (line[0] == '\n') continue;
        if (!parse_ack(line + 5 * served, key, &promised)) {
            counts[5]++;
            continue;
        }
        int found = !served && log_lookup(log, key, &digest);
        int bad = served ? promised != crc_update(0, value, value_for_key(key, value))
                         : !found || digest != promised;
        counts[served ? 3 : 0]++, counts[served ? 4 : found ? 2 : 1] += (unsigned)bad;
        if (!first[0] && bad)
            snprintf(first, 256, "; first: %s %s", key,
                     served ? "was served a wrong value"
                            : found ? "has a wrong value" : "is missing");
    }
}

static int command_check(const char *dir, const char *ack_path, enum variant variant) {
    struct log log = {0};
    char path[PATH_BYTES_MAX], first[256] = "";
    unsigned counts[6] = {0}; /* acknowledged, missing, wrong, reads, wrong reads, cut lines */
    path_join(path, dir, "wal.log");
    int log_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 && errno != ENOENT) return io_failed(-errno, "open of", path);
    int verdict = recover(dir, log_fd, variant, &log);
    if (log_fd >= 0) close(log_fd);
    if (verdict != RECOVERY_OK) recovery_failed(verdict, &log);
    if (verdict == RECOVERY_LOST) log.count = 0; /* that recovery gives up on everything */
    FILE *acks = verdict < 0 ? 0 : fopen(ack_path, "r");
    if (acks) compare_acks(acks, &log, counts, first), fclose(acks);
    free(log.records);
    if (verdict < 0) return EXIT_TEMPFAIL;
    if (!acks) return fprintf(stderr, "wal_kv: cannot read %s\n", ack_path), EXIT_USAGE;
    int status = counts[4] ? EXIT_SILENT /* a wrong value served is silent, whatever follows */
                 : counts[1] + counts[2] == 0 ? EXIT_PASS
                 : verdict == RECOVERY_CORRUPT ? EXIT_DETECTED : EXIT_SILENT;
    printf("wal_kv check: %s: %u acknowledged, %u recovered, %u missing, %u wrong; "
           "%u reads served, %u wrong; %u cut lines%s%s\n",
           status == EXIT_PASS ? "pass" : status == EXIT_DETECTED ? "DETECTED" : "SILENTLY WRONG",
           counts[0], log.count, counts[1], counts[2], counts[3], counts[4], counts[5],
           verdict == RECOVERY_CORRUPT ? ", corruption reported" : "", first);
    return status;
}

static int usage(void) {
    fputs("usage: wal_kv DIR write COUNT ACKFILE [VARIANT] | wal_kv DIR check ACKFILE [VARIANT]\n"
          "VARIANT: correct (default), no-fsync, no-checksum, rename-no-dirsync\n", stderr);
    return EXIT_USAGE;
}

/* Parses a decimal in [0, maximum]; returns 0 when text is not one. */
static int parse_number(const char *text, unsigned long maximum, unsigned long *out) {
    char *end;
    errno = 0;
    *out = strtoul(text, &end, 10);
    return errno == 0 && end != text && *end == 0 && text[0] != '-' && *out <= maximum;
}

int main(int argc, char **argv) {
    static const char *const names[] = {"correct", "no-fsync", "no-checksum", "rename-no-dirsync"};
    crc_init();
    if (crc_update(0, "123456789", 9) != 0xe3069283u) return fputs("crc32c broken\n", stderr), 70;
    int writing = argc >= 5 && strcmp(argv[2], "write") == 0;
    int checking = argc >= 4 && strcmp(argv[2], "check") == 0;
    int variant_index = writing ? 5 : 4;
    if ((!writing && !checking) || argc > variant_index + 1) return usage();
    enum variant variant = VARIANT_CORRECT;
    if (argc == variant_index + 1) {
        unsigned v = 0;
        while (v < 4 && strcmp(argv[variant_index], names[v]) != 0) v++;
        if (v == 4) return usage();
        variant = (enum variant)v;
    }
    if (checking) return command_check(argv[1], argv[3], variant);
    unsigned long count, incarnation = 0;
    const char *text = getenv("MOONSHIM_INCARNATION");
    if (!parse_number(argv[3], COUNT_MAX, &count) || count == 0) return usage();
    if (text && !parse_number(text, 1000000, &incarnation)) return usage();
    return command_write(argv[1], (uint32_t)count, argv[4], variant, incarnation);
}
