/* file.c: modelled storage: what is durable, storage faults, and what a crash leaves on disk.
 *
 * Files under storage.paths are "modelled". Their I/O still happens for real, so the program reads
 * back what it wrote, as from a page cache; what the shim adds is an undo log. Before each change
 * that is not yet durable (a write, a truncate, a create, rename, unlink, link, mkdir) it saves
 * what a power loss could bring back: the old bytes and size, or a hard link to a file that is
 * about to be replaced or removed. fsync/fdatasync of a file makes its data changes durable;
 * fsync of a directory makes the metadata changes inside it durable (create, rename and unlink
 * are NOT durable until then: beyond LazyFS, this catches "rename without fsyncing the
 * directory"). On a crash the log is replayed backwards: each change that is not durable is lost
 * or kept as the seed decides (storage.lost_unsynced), a lost write is torn per 512-byte sector
 * (old, new or garbage), phantom writes are lost even when synced; then the process is killed.
 *
 * Faults come from faults/storage.c through the core (SCHED_REQ_STORAGE): the thread is busy for
 * the operation's latency, then the shim applies the verdict. fsync is not performed for real on
 * modelled files: the model decides what is durable.
 *
 * Rules: as in shim.h; every syscall through the stub. Records live in mmap'd memory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../faults/storage.h"
#include "../scheduler/text.h"
#include "shim.h"

#define ROOTS_MAX 8
#define FILES_MAX 256
#define FD_MAP_SIZE 65536
#define RECORDS_MAX (1u << 20)
#define ARENA_SIZE (1ull << 30)
#define PATH_BYTES 512

enum record_type {
    RECORD_DATA = 1,  /* bytes [offset, offset+length) written; old bytes saved */
    RECORD_SIZE,      /* ftruncate/O_TRUNC: old size, and the old tail when it shrank */
    RECORD_CREATE,    /* path created */
    RECORD_RENAME,    /* path -> path2; backup holds what path2 was, if anything */
    RECORD_UNLINK,    /* path removed; backup holds it */
    RECORD_LINK,      /* path2 made a link to path */
    RECORD_MKDIR,     /* path made */
};

enum record_state { UNSYNCED = 0, SYNCED, PHANTOM, ABANDONED };

struct record {
    uint8_t type;
    uint8_t state;
    uint16_t file;          /* files[] index, for data and size records */
    uint32_t next;          /* index + 1 of the next record in the same chain, 0 at the end */
    int64_t offset, length; /* data: the range written; size: the new size */
    int64_t old_size;
    uint64_t saved_at, saved_length; /* old bytes in the arena */
    uint64_t path, path2, backup;    /* arena offsets of NUL-terminated paths, 0 if none */
};

struct modelled_file {
    uint64_t device, inode;
    int own_fd;       /* a hidden O_RDWR descriptor: undo works whatever the program did */
    int sync_writes;  /* opened O_SYNC/O_DSYNC */
};

static char roots[ROOTS_MAX][PATH_BYTES];
static int root_count;
static struct modelled_file files[FILES_MAX];
static int file_count;
static int16_t fd_file[FD_MAP_SIZE];       /* fd -> files[] index + 1, 0 if not modelled */
#define DIRECTORIES_MAX 128
static uint8_t fd_dir_path[FD_MAP_SIZE];   /* fd -> directories[] index + 1 of a modelled dir */
static char directories[DIRECTORIES_MAX][PATH_BYTES];
static int directory_count;
static struct record *records;
static uint32_t record_count;
static char *arena;
static uint64_t arena_used;
static uint32_t backup_serial;
/* Records not yet synced, chained per file (data and size) and in one chain for metadata, so a
 * sync looks only at what it can commit. */
#define METADATA_CHAIN FILES_MAX
static uint32_t chain_head[FILES_MAX + 1], chain_tail[FILES_MAX + 1];
static uint32_t synced_count;

/* ---- paths ---------------------------------------------------------------------------------- */

/* Lexically normalizes an absolute path in place: "//", "/./" and "/x/../" removed. */
static void normalize(char *path) {
    char *out = path;
    const char *in = path;
    while (*in) {
        while (*in == '/') in++;
        if (!*in) break;
        const char *end = in;
        while (*end && *end != '/') end++;
        size_t length = (size_t)(end - in);
        if (length == 1 && in[0] == '.') {
        } else if (length == 2 && in[0] == '.' && in[1] == '.') {
            while (out > path && *--out != '/') {}
        } else {
            *out++ = '/';
            memmove(out, in, length);
            out += length;
        }
        in = end;
    }
    if (out == path) *out++ = '/';
    *out = '\0';
}

/* The absolute form of (directory, path) in `out`; -1 when it cannot be known. */
static int absolute_path(int directory, const char *path, char *out, size_t size) {
    struct sched_text text;
    sched_text_init(&text, out, size);
    if (path[0] != '/') {
        char base[PATH_BYTES];
        long length;
        if (directory == AT_FDCWD) {
            length = shim_syscall2(SYS_getcwd, base, sizeof(base));
            if (length <= 0) return -1;
        } else {
            char link[40];
            struct sched_text link_text;
            sched_text_init(&link_text, link, sizeof(link));
            sched_text_str(&link_text, "/proc/self/fd/");
            sched_text_i64(&link_text, directory);
            length = shim_syscall3(SYS_readlink, link, base, sizeof(base) - 1);
            if (length <= 0) return -1;
            base[length] = '\0';
        }
        sched_text_str(&text, base);
        sched_text_char(&text, '/');
    }
    sched_text_str(&text, path);
    if (text.truncated) return -1;
    normalize(out);
    return 0;
}

static int under_root(const char *absolute) {
    for (int i = 0; i < root_count; i++) {
        size_t length = strlen(roots[i]);
        if (strncmp(absolute, roots[i], length) != 0) continue;
        if (absolute[length] == '/' || absolute[length] == '\0' || length == 1) return 1;
    }
    return 0;
}

static int excluded(const char *absolute) {
    static const char *const system_trees[] = {"/dev", "/proc", "/sys"};
    for (size_t i = 0; i < 3; i++) {
        size_t length = strlen(system_trees[i]);
        if (strncmp(absolute, system_trees[i], length) == 0 &&
            (absolute[length] == '/' || absolute[length] == '\0'))
            return 1;
    }
    return 0;
}

int shim_file_try_init(const char *paths) {
    const char *cursor = paths;
    while (*cursor && root_count < ROOTS_MAX) {
        /* ',' in a config file; ':' too, since ',' separates MOONSHIM_FAULTS items. */
        const char *comma = strpbrk(cursor, ",:");
        size_t length = comma ? (size_t)(comma - cursor) : strlen(cursor);
        char given[PATH_BYTES];
        if (length > 0 && length < sizeof(given)) {
            memcpy(given, cursor, length);
            given[length] = '\0';
            char *resolved = realpath(given, 0); /* start-up: libc is fine here */
            if (resolved && !excluded(resolved) && strlen(resolved) < PATH_BYTES) {
                memcpy(roots[root_count++], resolved, strlen(resolved) + 1);
            }
            free(resolved);
        }
        cursor += length + (comma ? 1 : 0);
    }
    records = (struct record *)(uintptr_t)shim_syscall(SYS_mmap, 0, RECORDS_MAX * sizeof(*records),
                                                       PROT_READ | PROT_WRITE,
                                                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    arena = (char *)(uintptr_t)shim_syscall(SYS_mmap, 0, ARENA_SIZE, PROT_READ | PROT_WRITE,
                                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if ((long)records < 0 || (long)arena < 0) return -ENOMEM;
    arena_used = 1; /* offset 0 means "none" */
    return 0;
}

/* ---- the undo log --------------------------------------------------------------------------- */

static _Noreturn void log_full(void) {
    shim_fatal(SHIM_EXIT_SIMULATION, "unsupported",
               "unsupported: more unsynced storage changes than the undo log holds (1 GiB of old "
               "data or 1M changes between fsyncs)");
}

static uint64_t arena_take(uint64_t length) {
    if (arena_used + length > ARENA_SIZE) log_full();
    uint64_t at = arena_used;
    arena_used += (length + 7) & ~7ull;
    return at;
}

static uint64_t save_string(const char *string) {
    if (!string) return 0;
    size_t length = strlen(string) + 1;
    uint64_t at = arena_take(length);
    memcpy(arena + at, string, length);
    return at;
}

static struct record *new_record(enum record_type type) {
    if (record_count == RECORDS_MAX) log_full();
    struct record *record = &records[record_count++];
    memset(record, 0, sizeof(*record));
    record->type = (uint8_t)type;
    return record;
}

static void chain_append(uint32_t index, uint32_t chain) {
    records[index].next = 0;
    if (chain_tail[chain]) records[chain_tail[chain] - 1].next = index + 1;
    else chain_head[chain] = index + 1;
    chain_tail[chain] = index + 1;
}

static uint32_t chain_of(const struct record *record) {
    return record->type == RECORD_DATA || record->type == RECORD_SIZE ? record->file
                                                                       : METADATA_CHAIN;
}

/* Links the newest record into its chain (once it is known to stay). */
static void keep_last_record(void) {
    chain_append(record_count - 1, chain_of(&records[record_count - 1]));
}

static const char *record_path(uint64_t at) {
    return at ? arena + at : 0;
}

/* Moves one blob of a kept record down to the front of the arena. */
static uint64_t move_blob(uint64_t at, uint64_t length) {
    if (!at) return 0;
    uint64_t to = arena_used;
    if (to != at) memmove(arena + to, arena + at, length);
    arena_used += (length + 7) & ~7ull;
    return to;
}

/* Synced records play no part in a crash: drop them, and move what the others keep to the front
 * of the arena. Blobs are allocated in increasing order and only ever move down, each record's
 * in the order they lie, so no move overwrites what is still to be moved. Keeps a log whose
 * files are mostly synced small, whatever one never-synced file does. */
static void compact_log(void) {
    uint32_t kept = 0;
    arena_used = 1;
    for (uint32_t i = 0; i < record_count; i++) {
        struct record record = records[i];
        if (record.state == SYNCED) continue;
        uint64_t *fields[4] = {&record.saved_at, &record.path, &record.path2, &record.backup};
        uint64_t lengths[4] = {record.saved_length, 0, 0, 0};
        for (int f = 1; f < 4; f++)
            if (*fields[f]) lengths[f] = strlen(arena + *fields[f]) + 1;
        for (int done = 0; done < 4; done++) { /* lowest source first */
            int lowest = -1;
            for (int f = 0; f < 4; f++)
                if (*fields[f] && lengths[f] != UINT64_MAX &&
                    (lowest < 0 || *fields[f] < *fields[lowest]))
                    lowest = f;
            if (lowest < 0) break;
            *fields[lowest] = move_blob(*fields[lowest], lengths[lowest]);
            lengths[lowest] = UINT64_MAX; /* moved */
        }
        records[kept++] = record;
    }
    record_count = kept;
    synced_count = 0;
    for (uint32_t c = 0; c <= METADATA_CHAIN; c++) chain_head[c] = chain_tail[c] = 0;
    for (uint32_t i = 0; i < record_count; i++) chain_append(i, chain_of(&records[i]));
}

static void maybe_compact_log(void) {
    if (synced_count == record_count || (record_count > 256 && synced_count * 2 > record_count))
        compact_log();
}

/* ---- files ---------------------------------------------------------------------------------- */

static int file_of_fd(int fd) {
    if (fd < 0 || fd >= FD_MAP_SIZE) return -1;
    return fd_file[fd] - 1;
}

static int register_file(int fd, const struct stat *status) {
    for (int i = 0; i < file_count; i++)
        if (files[i].device == status->st_dev && files[i].inode == status->st_ino) return i;
    if (file_count == FILES_MAX)
        shim_fatal(SHIM_EXIT_SIMULATION, "unsupported",
                   "unsupported: more than 256 modelled files in one run");
    char link[40];
    struct sched_text text;
    sched_text_init(&text, link, sizeof(link));
    sched_text_str(&text, "/proc/self/fd/");
    sched_text_i64(&text, fd);
    int own = (int)shim_syscall4(SYS_openat, AT_FDCWD, link, O_RDWR | O_CLOEXEC, 0);
    if (own < 0) return -1; /* read-only for us too: not modelled (cannot undo) */
    own = shim_fd_try_hide(own);
    struct modelled_file *file = &files[file_count];
    file->device = status->st_dev;
    file->inode = status->st_ino;
    file->own_fd = own;
    return file_count++;
}

static int64_t file_size(int own_fd) {
    struct stat status;
    if (shim_syscall2(SYS_fstat, own_fd, &status) != 0) return 0;
    return status.st_size;
}

/* Saves the bytes of [offset, offset+length) that exist now; returns how many were saved. */
static uint64_t save_old_bytes(int own_fd, int64_t offset, int64_t length, int64_t size,
                               uint64_t *saved_at) {
    int64_t available = size - offset;
    if (available <= 0 || length <= 0) {
        *saved_at = 0;
        return 0;
    }
    uint64_t count = (uint64_t)(available < length ? available : length);
    *saved_at = arena_take(count);
    long got = shim_syscall4(SYS_pread64, own_fd, arena + *saved_at, count, offset);
    return got > 0 ? (uint64_t)got : 0;
}

/* ---- decisions ------------------------------------------------------------------------------ */

/* A call site: the call and where it came from, relative to nothing that moves between runs
 * with ASLR off (moonshim exec turns it off). */
static uint64_t site_key(uint32_t call, uintptr_t caller) {
    return ((uint64_t)call << 48) ^ (uint64_t)caller;
}

static struct fault_storage_decision storage_op(uint32_t call, int op, uint64_t length,
                                                uintptr_t caller) {
    struct sched_request request = {.kind = SCHED_REQ_STORAGE, .call = call,
                                    .arg = {op, (int64_t)length, (int64_t)site_key(call, caller)}};
    struct sched_decision decision;
    shim_decide(&request, &decision);
    struct fault_storage_decision verdict = {(int32_t)decision.result, decision.value, 0};
    return verdict;
}

/* A modelled directory's path, kept outside the log (which compaction moves); its index + 1, or
 * 0 when the table is full (its fsync then commits nothing, the safe side). */
static int remember_directory(const char *absolute) {
    for (int i = 0; i < directory_count; i++)
        if (strcmp(directories[i], absolute) == 0) return i + 1;
    if (directory_count == DIRECTORIES_MAX) return 0;
    memcpy(directories[directory_count], absolute, strlen(absolute) + 1);
    return ++directory_count;
}

/* ---- the program's operations --------------------------------------------------------------- */

void shim_file_opened(int fd, int directory, const char *path, int flags, int existed) {
    if (fd < 0 || fd >= FD_MAP_SIZE) return;
    fd_file[fd] = 0;
    fd_dir_path[fd] = 0;
    if (root_count == 0 || !path) return;
    char absolute[PATH_BYTES];
    if (absolute_path(directory, path, absolute, sizeof(absolute)) != 0) return;
    if (!under_root(absolute) || excluded(absolute)) return;
    struct stat status;
    if (shim_syscall2(SYS_fstat, fd, &status) != 0) return;
    if (S_ISDIR(status.st_mode)) {
        fd_dir_path[fd] = (uint8_t)remember_directory(absolute);
        return;
    }
    if (!S_ISREG(status.st_mode)) return;
    int file = register_file(fd, &status);
    if (file < 0) return;
    fd_file[fd] = (int16_t)(file + 1);
    files[file].sync_writes = (flags & (O_SYNC | O_DSYNC)) != 0;
    if ((flags & O_CREAT) && !existed) {
        struct record *record = new_record(RECORD_CREATE);
        record->path = save_string(absolute);
        keep_last_record();
    }
}

void shim_file_closed(int fd) {
    if (fd < 0 || fd >= FD_MAP_SIZE) return;
    fd_file[fd] = 0;
    fd_dir_path[fd] = 0;
}

void shim_file_duplicated(int from, int to) {
    if (from < 0 || from >= FD_MAP_SIZE || to < 0 || to >= FD_MAP_SIZE) return;
    fd_file[to] = fd_file[from];
    fd_dir_path[to] = fd_dir_path[from];
}

int shim_file_is_modelled(int fd) {
    return file_of_fd(fd) >= 0;
}

int shim_file_is_modelled_directory(int fd) {
    return fd >= 0 && fd < FD_MAP_SIZE && fd_dir_path[fd] != 0;
}

/* The program's file position for a write() without offset. */
static int64_t write_position(int fd, int own_fd) {
    long flags = shim_syscall2(SYS_fcntl, fd, F_GETFL);
    if (flags >= 0 && (flags & O_APPEND)) return file_size(own_fd);
    long position = shim_syscall3(SYS_lseek, fd, 0, SEEK_CUR);
    return position < 0 ? 0 : position;
}

long shim_file_write(uint32_t call, int fd, const void *buffer, size_t length, int64_t offset,
                     uintptr_t caller) {
    int index = file_of_fd(fd);
    struct modelled_file *file = &files[index];
    struct fault_storage_decision verdict = storage_op(call, FAULT_STORAGE_WRITE, length, caller);
    if (verdict.verdict == FAULT_STORAGE_EIO) return -EIO;
    if (verdict.verdict == FAULT_STORAGE_ENOSPC) return -ENOSPC;
    uint64_t count = verdict.verdict == FAULT_STORAGE_SHORT ? verdict.parameter : length;
    int64_t position = offset >= 0 ? offset : write_position(fd, file->own_fd);
    int64_t size = file_size(file->own_fd);
    int64_t landing = position;
    if (verdict.verdict == FAULT_STORAGE_MISDIRECT) {
        /* Another sector-aligned place in the same file (within what exists, or at its end). */
        uint64_t sectors = (uint64_t)size / FAULT_STORAGE_SECTOR + 1;
        landing = (int64_t)(verdict.parameter % sectors) * FAULT_STORAGE_SECTOR;
        if (landing == position) landing = position + FAULT_STORAGE_SECTOR;
    }
    /* An append right after the previous unsynced append to the same file extends that record:
     * a log that is never fsynced costs one record, not one per write. */
    struct record *last = record_count ? &records[record_count - 1] : 0;
    int extends = last && last->type == RECORD_DATA && last->state == UNSYNCED &&
                  last->file == (uint16_t)index && landing == size &&
                  last->offset + last->length == size && last->offset >= last->old_size &&
                  verdict.verdict == FAULT_STORAGE_OK && !file->sync_writes;
    struct record *record = extends ? last : new_record(RECORD_DATA);
    if (!extends) {
        record->file = (uint16_t)index;
        record->offset = landing;
        record->length = (int64_t)count;
        record->old_size = size;
        record->saved_length = save_old_bytes(file->own_fd, landing, (int64_t)count, size,
                                              &record->saved_at);
    }
    const void *data = buffer;
    if (verdict.verdict == FAULT_STORAGE_CORRUPT && count > 0) {
        uint64_t copy_at = arena_take(count);
        memcpy(arena + copy_at, buffer, count);
        shim_flip_bits((unsigned char *)arena + copy_at, count, verdict.parameter);
        data = arena + copy_at;
    }
    long written = shim_syscall4(SYS_pwrite64, file->own_fd, data, count, landing);
    if (written < 0) {
        if (!extends) record_count--;
        return written;
    }
    record->length = extends ? record->length + written : written;
    if (offset < 0) shim_syscall3(SYS_lseek, fd, position + written, SEEK_SET);
    if (verdict.verdict == FAULT_STORAGE_PHANTOM) record->state = PHANTOM;
    else if (file->sync_writes) {
        record->state = SYNCED;
        synced_count++;
    }
    if (!extends) keep_last_record();
    return written;
}

long shim_file_read(uint32_t call, int fd, void *buffer, size_t length, int64_t offset,
                    uintptr_t caller) {
    int index = file_of_fd(fd);
    struct fault_storage_decision verdict = storage_op(call, FAULT_STORAGE_READ, length, caller);
    int64_t position = offset;
    if (offset < 0) {
        long current = shim_syscall3(SYS_lseek, fd, 0, SEEK_CUR);
        position = current < 0 ? 0 : current;
    }
    int64_t source = position;
    if (verdict.verdict == FAULT_STORAGE_MISDIRECT) {
        uint64_t sectors = (uint64_t)file_size(files[index].own_fd) / FAULT_STORAGE_SECTOR + 1;
        source = (int64_t)(verdict.parameter % sectors) * FAULT_STORAGE_SECTOR;
    }
    long got = shim_syscall4(SYS_pread64, files[index].own_fd, buffer, length, source);
    if (got < 0) return got;
    if (verdict.verdict == FAULT_STORAGE_CORRUPT) shim_flip_bits(buffer, (uint64_t)got, verdict.parameter);
    if (offset < 0) {
        /* As if read where asked: the position moves by what a correct read would return. */
        int64_t size = file_size(files[index].own_fd);
        int64_t moved = size - position < (int64_t)length ? size - position : (int64_t)length;
        if (moved < 0) moved = 0;
        if (verdict.verdict == FAULT_STORAGE_MISDIRECT) got = moved;
        shim_syscall3(SYS_lseek, fd, position + (moved < got ? moved : got), SEEK_SET);
    }
    return got;
}

static int parent_matches(const char *path, const char *directory) {
    if (!path || !directory) return 0;
    const char *slash = strrchr(path, '/');
    if (!slash) return 0;
    size_t length = slash == path ? 1 : (size_t)(slash - path);
    return strlen(directory) == length && strncmp(path, directory, length) == 0;
}

static void commit_record(struct record *record) {
    if (record->state != UNSYNCED) return;
    record->state = SYNCED;
    synced_count++;
    if (record->backup) shim_syscall3(SYS_unlinkat, AT_FDCWD, record_path(record->backup), 0);
    record->backup = 0;
}

/* fsync and friends. `fd` < 0: everything (sync, syncfs). */
long shim_file_sync(uint32_t call, int fd, uintptr_t caller) {
    int index = file_of_fd(fd);
    const char *directory =
        fd >= 0 && fd < FD_MAP_SIZE && fd_dir_path[fd] ? directories[fd_dir_path[fd] - 1] : 0;
    if (fd >= 0 && index < 0 && !directory) return 0; /* not modelled after all */
    struct fault_storage_decision verdict = storage_op(call, FAULT_STORAGE_SYNC, 0, caller);
    if (verdict.verdict == FAULT_STORAGE_SYNC_FAIL) {
        if (shim_core()->config.storage_fsyncgate)
            for (uint32_t i = 0; i < record_count; i++)
                if (records[i].state == UNSYNCED && (int)records[i].file == index &&
                    (records[i].type == RECORD_DATA || records[i].type == RECORD_SIZE))
                    records[i].state = ABANDONED; /* Linux drops the pages; a retry succeeds */
        return -EIO;
    }
    if (fd < 0) {
        for (uint32_t i = 0; i < record_count; i++) commit_record(&records[i]);
    } else {
        /* Walk one chain, committing what this sync makes durable and relinking the rest
         * (phantom and abandoned writes, metadata of other directories). */
        uint32_t chain = index >= 0 ? (uint32_t)index : METADATA_CHAIN;
        uint32_t at = chain_head[chain];
        chain_head[chain] = chain_tail[chain] = 0;
        while (at) {
            struct record *record = &records[at - 1];
            uint32_t next = record->next;
            if (index >= 0 || parent_matches(record_path(record->path), directory) ||
                parent_matches(record_path(record->path2), directory))
                commit_record(record);
            if (record->state != SYNCED) chain_append(at - 1, chain);
            at = next;
        }
    }
    maybe_compact_log();
    return 0;
}

/* ---- metadata ------------------------------------------------------------------------------- */

int shim_file_path_modelled(int directory, const char *path, char *absolute) {
    if (root_count == 0 || !path) return 0;
    if (absolute_path(directory, path, absolute, PATH_BYTES) != 0) return 0;
    return under_root(absolute) && !excluded(absolute);
}

static int exists(const char *absolute) {
    struct stat status;
    return shim_syscall4(SYS_newfstatat, AT_FDCWD, absolute, &status, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Hard-links `absolute` to a fresh backup name next to the storage root; 0 if impossible. */
static uint64_t backup_of(const char *absolute) {
    if (!exists(absolute)) return 0;
    char name[PATH_BYTES];
    struct sched_text text;
    sched_text_init(&text, name, sizeof(name));
    sched_text_str(&text, roots[0]);
    sched_text_str(&text, "/.moonshim-undo");
    shim_syscall3(SYS_mkdirat, AT_FDCWD, name, 0700);
    sched_text_str(&text, "/");
    sched_text_i64(&text, shim_syscall0(SYS_getpid));
    sched_text_char(&text, '-');
    sched_text_u64(&text, ++backup_serial);
    if (shim_syscall5(SYS_linkat, AT_FDCWD, absolute, AT_FDCWD, name, 0) != 0) return 0;
    return save_string(name);
}

static void metadata_op(uint32_t call, uintptr_t caller) {
    storage_op(call, FAULT_STORAGE_METADATA, 0, caller);
}

long shim_file_rename(uint32_t call, const long args[6], uintptr_t caller) {
    char from[PATH_BYTES], to[PATH_BYTES];
    int directory_from = (int)args[0], directory_to = (int)args[2];
    const char *path_from = (const char *)args[1], *path_to = (const char *)args[3];
    long flags = call == SYS_renameat2 ? args[4] : 0;
    if (call == SYS_rename) {
        directory_from = directory_to = AT_FDCWD;
        path_from = (const char *)args[0];
        path_to = (const char *)args[1];
    }
    if (!shim_file_path_modelled(directory_from, path_from, from) ||
        !shim_file_path_modelled(directory_to, path_to, to))
        return shim_syscall5(SYS_renameat2, directory_from, path_from, directory_to, path_to, flags);
    metadata_op(call, caller);
    uint64_t backup = backup_of(to);
    long result = shim_syscall5(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
    if (result != 0) {
        if (backup) shim_syscall3(SYS_unlinkat, AT_FDCWD, record_path(backup), 0);
        return result;
    }
    struct record *record = new_record(RECORD_RENAME);
    record->path = save_string(from);
    record->path2 = save_string(to);
    record->backup = backup;
    keep_last_record();
    return 0;
}

long shim_file_unlink(uint32_t call, const long args[6], uintptr_t caller) {
    char absolute[PATH_BYTES];
    int directory = call == SYS_unlink || call == SYS_rmdir ? AT_FDCWD : (int)args[0];
    const char *path = (const char *)(call == SYS_unlink || call == SYS_rmdir ? args[0] : args[1]);
    long flags = call == SYS_unlinkat ? args[2] : (call == SYS_rmdir ? AT_REMOVEDIR : 0);
    if (!shim_file_path_modelled(directory, path, absolute))
        return shim_syscall3(SYS_unlinkat, directory, path, flags);
    metadata_op(call, caller);
    /* A removed directory is empty; it comes back as mkdir would make it. */
    uint64_t backup = (flags & AT_REMOVEDIR) ? 0 : backup_of(absolute);
    long result = shim_syscall3(SYS_unlinkat, AT_FDCWD, absolute, flags);
    if (result != 0) {
        if (backup) shim_syscall3(SYS_unlinkat, AT_FDCWD, record_path(backup), 0);
        return result;
    }
    struct record *record = new_record(RECORD_UNLINK);
    record->path = save_string(absolute);
    record->backup = backup;
    record->length = (flags & AT_REMOVEDIR) ? 1 : 0; /* 1: it was a directory */
    keep_last_record();
    return 0;
}

long shim_file_link(uint32_t call, const long args[6], uintptr_t caller) {
    char from[PATH_BYTES], to[PATH_BYTES];
    int directory_from = call == SYS_link ? AT_FDCWD : (int)args[0];
    const char *path_from = (const char *)(call == SYS_link ? args[0] : args[1]);
    int directory_to = call == SYS_link ? AT_FDCWD : (int)args[2];
    const char *path_to = (const char *)(call == SYS_link ? args[1] : args[3]);
    long flags = call == SYS_link ? 0 : args[4];
    if (!shim_file_path_modelled(directory_to, path_to, to) ||
        !shim_file_path_modelled(directory_from, path_from, from))
        return shim_syscall5(SYS_linkat, directory_from, path_from, directory_to, path_to, flags);
    metadata_op(call, caller);
    long result = shim_syscall5(SYS_linkat, AT_FDCWD, from, AT_FDCWD, to, flags);
    if (result != 0) return result;
    struct record *record = new_record(RECORD_LINK);
    record->path = save_string(from);
    record->path2 = save_string(to);
    keep_last_record();
    return 0;
}

long shim_file_mkdir(uint32_t call, const long args[6], uintptr_t caller) {
    char absolute[PATH_BYTES];
    int directory = call == SYS_mkdir ? AT_FDCWD : (int)args[0];
    const char *path = (const char *)(call == SYS_mkdir ? args[0] : args[1]);
    long mode = call == SYS_mkdir ? args[1] : args[2];
    if (!shim_file_path_modelled(directory, path, absolute))
        return shim_syscall3(SYS_mkdirat, directory, path, mode);
    metadata_op(call, caller);
    long result = shim_syscall3(SYS_mkdirat, AT_FDCWD, absolute, mode);
    if (result != 0) return result;
    new_record(RECORD_MKDIR)->path = save_string(absolute);
    keep_last_record();
    return 0;
}

/* ftruncate on a modelled descriptor, or O_TRUNC of an existing modelled file. */
long shim_file_truncate(uint32_t call, int fd, int64_t length, uintptr_t caller) {
    int index = file_of_fd(fd);
    if (length < 0) return -EINVAL;
    metadata_op(call, caller);
    struct modelled_file *file = &files[index];
    int64_t size = file_size(file->own_fd);
    struct record *record = new_record(RECORD_SIZE);
    record->file = (uint16_t)index;
    record->length = length;
    record->old_size = size;
    record->offset = length;
    record->saved_length = save_old_bytes(file->own_fd, length, size - length, size,
                                          &record->saved_at);
    long result = shim_syscall2(SYS_ftruncate, file->own_fd, length);
    if (result != 0) record_count--;
    else keep_last_record();
    return result;
}

/* ---- the crash ------------------------------------------------------------------------------ */

static void undo_data(const struct record *record, struct sched_prng *stream,
                      const struct sched_config *config) {
    int own = files[record->file].own_fd;
    int extended = record->offset + record->length > record->old_size;
    int keep_size = extended && record->state != PHANTOM &&
                    fault_storage_crash_keeps_size(config, stream);
    for (int64_t sector = 0; sector * FAULT_STORAGE_SECTOR < record->length; sector++) {
        int64_t begin = sector * FAULT_STORAGE_SECTOR;
        int64_t count = record->length - begin < FAULT_STORAGE_SECTOR ? record->length - begin
                                                                      : FAULT_STORAGE_SECTOR;
        int64_t saved = (int64_t)record->saved_length - begin; /* old bytes of this sector */
        if (saved <= 0 && !keep_size) continue; /* appended, and the size goes back below */
        enum fault_storage_fate fate =
            record->state == PHANTOM ? FAULT_FATE_OLD : fault_storage_sector_fate(config, stream);
        if (fate == FAULT_FATE_NEW) continue;
        unsigned char bytes[FAULT_STORAGE_SECTOR];
        memset(bytes, 0, sizeof(bytes)); /* "old" past the old end of file reads as zeros */
        if (fate == FAULT_FATE_GARBAGE) sched_prng_fill(stream, bytes, (size_t)count);
        else if (saved > 0)
            memcpy(bytes, arena + record->saved_at + begin, (size_t)(saved < count ? saved : count));
        shim_syscall4(SYS_pwrite64, own, bytes, count, record->offset + begin);
    }
    if (extended && !keep_size && file_size(own) > record->old_size)
        shim_syscall2(SYS_ftruncate, own, record->old_size);
}

static void undo_record(const struct record *record, struct sched_prng *stream,
                        const struct sched_config *config) {
    const char *path = record_path(record->path), *path2 = record_path(record->path2);
    switch (record->type) {
    case RECORD_DATA: undo_data(record, stream, config); break;
    case RECORD_SIZE:
        shim_syscall2(SYS_ftruncate, files[record->file].own_fd, record->old_size);
        if (record->saved_length)
            shim_syscall4(SYS_pwrite64, files[record->file].own_fd, arena + record->saved_at,
                          record->saved_length, record->offset);
        break;
    case RECORD_CREATE: shim_syscall3(SYS_unlinkat, AT_FDCWD, path, 0); break;
    case RECORD_RENAME:
        shim_syscall5(SYS_renameat2, AT_FDCWD, path2, AT_FDCWD, path, 0);
        if (record->backup)
            shim_syscall5(SYS_renameat2, AT_FDCWD, record_path(record->backup), AT_FDCWD, path2, 0);
        return;
    case RECORD_UNLINK:
        if (record->length) shim_syscall3(SYS_mkdirat, AT_FDCWD, path, 0755);
        else if (record->backup)
            shim_syscall5(SYS_renameat2, AT_FDCWD, record_path(record->backup), AT_FDCWD, path, 0);
        return;
    case RECORD_LINK: shim_syscall3(SYS_unlinkat, AT_FDCWD, path2, 0); break;
    case RECORD_MKDIR: shim_syscall3(SYS_unlinkat, AT_FDCWD, path, AT_REMOVEDIR); break;
    }
}

/* In a forked child: the parent's unsynced changes are the parent's to lose (their backups are
 * the parent's files); the child's log starts empty. */
void shim_file_after_fork_child(void) {
    record_count = 0;
    synced_count = 0;
    arena_used = 1;
    for (uint32_t c = 0; c <= METADATA_CHAIN; c++) chain_head[c] = chain_tail[c] = 0;
}

/* Replays the log backwards, losing what the seed says, then removes leftover backups. Called
 * with the baton held; the core's storage stream decides. */
void shim_file_apply_crash(struct sched_core *core) {
    struct sched_prng *stream = sched_core_stream(core, SCHED_STREAM_STORAGE);
    const struct sched_config *config = &core->config;
    for (uint32_t i = record_count; i-- > 0;) {
        struct record *record = &records[i];
        int lost;
        if (record->state == SYNCED) lost = 0;
        else if (record->state == PHANTOM || record->state == ABANDONED) lost = 1;
        else lost = fault_storage_crash_loses(config, stream);
        if (lost) {
            undo_record(record, stream, config);
            record->backup = 0; /* consumed by the undo */
        }
    }
    for (uint32_t i = 0; i < record_count; i++)
        if (records[i].backup) shim_syscall3(SYS_unlinkat, AT_FDCWD, record_path(records[i].backup), 0);
    record_count = 0;
    synced_count = 0;
}
