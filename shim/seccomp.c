/* seccomp.c: the backstop filter: trap every intercepted syscall that does not come from the stub.
 *
 * libseccomp builds the rules (one SCMP_ACT_TRAP per syscall in emulate.c's table, everything
 * else allowed). libseccomp cannot test the instruction pointer, so we export its BPF program and
 * prepend five instructions that allow any syscall issued from the stub page (SHIM_STUB_ADDRESS):
 * that is how the shim's own calls get through. The filter is loaded with SPEC_ALLOW (the
 * speculative-store-bypass mitigation otherwise costs 30-50 % on every syscall) and TSYNC (threads
 * that already exist get it too). Runs once, at start-up, before the program's main(). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define PREFIX_LENGTH 6
#define TRAPPED_MAX 96

static int build_rules(scmp_filter_ctx context) {
    int numbers[TRAPPED_MAX];
    size_t count = shim_trapped_syscalls(numbers, TRAPPED_MAX);
    for (size_t i = 0; i < count; i++) {
        int failed = seccomp_rule_add(context, SCMP_ACT_TRAP, numbers[i], 0);
        if (failed) return failed;
    }
    /* A 32-bit syscall (int $0x80) from a 64-bit program would bypass every rule above: trap it
     * too, and the handler says so instead of letting it through. */
    return seccomp_attr_set(context, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
}

/* Exports libseccomp's program into a freshly allocated array with room for our prefix. */
static int export_program(scmp_filter_ctx context, struct sock_filter **program, size_t *count) {
    int memory = (int)shim_syscall2(SYS_memfd_create, "moonshim-bpf", MFD_CLOEXEC);
    if (memory < 0) return memory;
    int result = seccomp_export_bpf(context, memory);
    long size = result == 0 ? shim_syscall3(SYS_lseek, memory, 0, SEEK_END) : result;
    if (size <= 0 || size % (long)sizeof(struct sock_filter) != 0) {
        shim_syscall1(SYS_close, memory);
        return size < 0 ? (int)size : -EINVAL;
    }
    struct sock_filter *filter = calloc((size_t)size / sizeof(*filter) + PREFIX_LENGTH,
                                        sizeof(*filter));
    long got = filter ? shim_syscall4(SYS_pread64, memory, filter + PREFIX_LENGTH, size, 0) : -ENOMEM;
    shim_syscall1(SYS_close, memory);
    if (got != size) {
        free(filter);
        return got < 0 ? (int)got : -EIO;
    }
    *program = filter;
    *count = (size_t)size / sizeof(*filter) + PREFIX_LENGTH;
    return 0;
}

/* Allow when instruction_pointer is in [SHIM_STUB_ADDRESS, SHIM_STUB_ADDRESS + SHIM_STUB_SIZE);
 * otherwise fall through to libseccomp's program, which starts right after the prefix. */
static void write_prefix(struct sock_filter *filter) {
    const uint32_t high = (uint32_t)(SHIM_STUB_ADDRESS >> 32);
    const uint32_t low_begin = (uint32_t)SHIM_STUB_ADDRESS;
    const uint32_t low_end = (uint32_t)(SHIM_STUB_ADDRESS + SHIM_STUB_SIZE);
    _Static_assert((SHIM_STUB_ADDRESS >> 32) == ((SHIM_STUB_ADDRESS + SHIM_STUB_SIZE - 1) >> 32),
                   "the stub page must not straddle a 4 GiB boundary");
    const uint32_t ip = offsetof(struct seccomp_data, instruction_pointer);
    struct sock_filter prefix[PREFIX_LENGTH] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip + 4),             /* A = ip >> 32 (little-endian) */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, high, 0, 4),         /* != high: to libseccomp */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip),                 /* A = low 32 bits */
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, low_begin, 0, 2),    /* below the page: libseccomp */
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, low_end, 1, 0),      /* past the page: libseccomp */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    memcpy(filter, prefix, sizeof(prefix));
}

int shim_seccomp_try_install(void) {
    scmp_filter_ctx context = seccomp_init(SCMP_ACT_ALLOW);
    if (!context) return -ENOMEM;
    int result = build_rules(context);
    struct sock_filter *filter = 0;
    size_t count = 0;
    if (result == 0) result = export_program(context, &filter, &count);
    seccomp_release(context);
    if (result != 0) return result;
    write_prefix(filter);
    struct sock_fprog program = {.len = (unsigned short)count, .filter = filter};
    result = (int)shim_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
    if (result == 0)
        result = (int)shim_syscall3(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                    SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_SPEC_ALLOW,
                                    &program);
    free(filter);
    /* TSYNC reports a thread it could not synchronize as a positive thread id. */
    return result > 0 ? -EAGAIN : result;
}
