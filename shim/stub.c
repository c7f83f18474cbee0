/* stub.c: the shim's syscall entry: a copy of arch/x86_64/syscall_stub.S at a fixed page. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

extern const char shim_stub_code_begin[];
extern const char shim_stub_code_end[];

typedef long (*stub_function)(long, long, long, long, long, long, long);

/* Until the page is installed (during start-up, before any filter exists), the copy in the
 * library's own text serves; afterwards only the fixed page is allowed by the filter. */
static stub_function stub_entry = (stub_function)(void *)shim_stub_code_begin;

long shim_syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6) {
    return stub_entry(number, a1, a2, a3, a4, a5, a6);
}

int shim_stub_try_install(void) {
    size_t length = (size_t)(shim_stub_code_end - shim_stub_code_begin);
    if (length > SHIM_STUB_SIZE) return -E2BIG;
    /* MAP_FIXED_NOREPLACE: never clobber a mapping the program made. */
    long mapped = shim_syscall(SYS_mmap, (long)SHIM_STUB_ADDRESS, SHIM_STUB_SIZE,
                               PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                               -1, 0);
    if (mapped < 0) return (int)mapped;
    if ((unsigned long)mapped != SHIM_STUB_ADDRESS) return -EEXIST;
    memcpy((void *)SHIM_STUB_ADDRESS, shim_stub_code_begin, length);
    long protected = shim_syscall(SYS_mprotect, (long)SHIM_STUB_ADDRESS, SHIM_STUB_SIZE,
                                  PROT_READ | PROT_EXEC, 0, 0, 0);
    if (protected < 0) return (int)protected;
    stub_entry = (stub_function)SHIM_STUB_ADDRESS;
    return 0;
}
