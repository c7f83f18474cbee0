/* vdso.c: make glibc's vDSO clock calls land in the shim.
 *
 * glibc reads clocks through the vDSO without a syscall, so the filter never sees those calls.
 * The obvious fix, patching the vDSO's code, is refused by kernels that seal the system mappings
 * (6.10+ with CONFIG_MSEAL_SYSTEM_MAPPINGS: mprotect of [vdso] fails with EINVAL, as on these
 * machines). So the shim works on the callers' side instead, which any kernel allows:
 *  - glibc keeps one pointer per vDSO function in ld.so's `_rtld_global_ro` and calls through it
 *    from clock_gettime, gettimeofday, time and sched_getcpu, also internally (timed waits,
 *    syslog, ...). We find the vDSO functions' addresses with libelf (elf_memory over a copy of
 *    the image at getauxval(AT_SYSINFO_EHDR)), look for exactly those values in
 *    `_rtld_global_ro`, and repoint them at replacements here.
 *  - time() and gettimeofday() are IFUNCs that glibc resolves straight to the vDSO, so callers'
 *    GOT entries hold vDSO addresses; time.c interposes those names at the PLT.
 * What this cannot reach: a program that finds the vDSO itself (auxv + its own ELF walk) and
 * calls it. Runs at start-up, before main. */
#include <dlfcn.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define PAGE_SIZE_BYTES 4096ul

static long vdso_clock_gettime(long clock_id, long timespec) {
    const long args[6] = {clock_id, timespec};
    return shim_emulate(SYS_clock_gettime, args);
}

static long vdso_gettimeofday(long timeval, long timezone) {
    const long args[6] = {timeval, timezone};
    return shim_emulate(SYS_gettimeofday, args);
}

static long vdso_time(long pointer) {
    const long args[6] = {pointer};
    return shim_emulate(SYS_time, args);
}

static long vdso_getcpu(long cpu, long node, long cache) {
    const long args[6] = {cpu, node, cache};
    return shim_emulate(SYS_getcpu, args);
}

struct vdso_function {
    const char *name;
    void *replacement;
    uintptr_t address; /* in the live vDSO, 0 when absent */
};

static struct vdso_function functions[] = {
    {"__vdso_clock_gettime", (void *)vdso_clock_gettime, 0},
    {"__vdso_gettimeofday", (void *)vdso_gettimeofday, 0},
    {"__vdso_time", (void *)vdso_time, 0},
    {"__vdso_getcpu", (void *)vdso_getcpu, 0},
};

#define FUNCTION_COUNT (sizeof(functions) / sizeof(functions[0]))

/* The image's extent: the section headers sit at its end in every vDSO Linux builds. */
static size_t image_size(const unsigned char *base) {
    const Elf64_Ehdr *header = (const Elf64_Ehdr *)base;
    size_t end = header->e_shoff + (size_t)header->e_shnum * header->e_shentsize;
    const Elf64_Phdr *segments = (const Elf64_Phdr *)(base + header->e_phoff);
    for (int i = 0; i < header->e_phnum; i++)
        if (segments[i].p_offset + segments[i].p_filesz > end)
            end = segments[i].p_offset + segments[i].p_filesz;
    return end;
}

static void note_symbol(const char *name, uintptr_t address) {
    for (size_t i = 0; i < FUNCTION_COUNT; i++)
        if (strcmp(functions[i].name, name) == 0) functions[i].address = address;
}

/* Fills functions[].address from the dynamic symbol table. 0, or -errno. */
static int find_vdso_functions(const unsigned char *live) {
    if (elf_version(EV_CURRENT) == EV_NONE) return -ELIBBAD;
    size_t size = image_size(live);
    char *copy = malloc(size);
    if (!copy) return -ENOMEM;
    memcpy(copy, live, size);
    Elf *elf = elf_memory(copy, size);
    if (!elf) {
        free(copy);
        return -ELIBBAD;
    }
    /* Symbol values are link-time addresses; the first PT_LOAD says where that is. */
    uintptr_t bias = (uintptr_t)live;
    GElf_Phdr segment;
    for (int i = 0; gelf_getphdr(elf, i, &segment); i++) {
        if (segment.p_type != PT_LOAD) continue;
        bias -= segment.p_vaddr;
        break;
    }
    Elf_Scn *section = 0;
    while ((section = elf_nextscn(elf, section)) != 0) {
        GElf_Shdr header;
        if (!gelf_getshdr(section, &header) || header.sh_type != SHT_DYNSYM) continue;
        Elf_Data *data = elf_getdata(section, 0);
        size_t count = header.sh_entsize ? header.sh_size / header.sh_entsize : 0;
        for (size_t i = 0; data && i < count; i++) {
            GElf_Sym symbol;
            if (!gelf_getsym(data, (int)i, &symbol) || GELF_ST_TYPE(symbol.st_info) != STT_FUNC)
                continue;
            const char *name = elf_strptr(elf, header.sh_link, symbol.st_name);
            if (name) note_symbol(name, bias + symbol.st_value);
        }
    }
    elf_end(elf);
    free(copy);
    return 0;
}

static void *replacement_for(uintptr_t value) {
    for (size_t i = 0; i < FUNCTION_COUNT; i++)
        if (functions[i].address && functions[i].address == value) return functions[i].replacement;
    return 0;
}

/* Repoints every word of ld.so's _rtld_global_ro that holds a vDSO function address. Returns the
 * number repointed, or -errno. */
static int repoint_glibc_pointers(void) {
    void *global = dlvsym(RTLD_DEFAULT, "_rtld_global_ro", "GLIBC_PRIVATE");
    Dl_info info;
    const ElfW(Sym) *symbol = 0;
    if (!global || !dladdr1(global, &info, (void **)&symbol, RTLD_DL_SYMENT) || !symbol)
        return -ENOENT;
    uintptr_t *words = global;
    size_t count = symbol->st_size / sizeof(*words);
    uintptr_t first_page = (uintptr_t)global & ~(PAGE_SIZE_BYTES - 1);
    uintptr_t end = (uintptr_t)global + symbol->st_size;
    size_t length = (end - first_page + PAGE_SIZE_BYTES - 1) & ~(PAGE_SIZE_BYTES - 1);
    /* The structure is RELRO: read-only once ld.so has relocated everything. */
    long result = shim_syscall3(SYS_mprotect, first_page, length, PROT_READ | PROT_WRITE);
    if (result < 0) return (int)result;
    int repointed = 0;
    for (size_t i = 0; i < count; i++) {
        void *replacement = replacement_for(words[i]);
        if (!replacement) continue;
        words[i] = (uintptr_t)replacement;
        repointed++;
    }
    result = shim_syscall3(SYS_mprotect, first_page, length, PROT_READ);
    return result < 0 ? (int)result : repointed;
}

int shim_vdso_try_patch(void) {
    const unsigned char *live = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    if (!live) return 0; /* no vDSO: glibc makes real syscalls, and the filter traps them */
    int result = find_vdso_functions(live);
    if (result < 0) return result;
    result = repoint_glibc_pointers();
    if (result < 0) return result;
    /* glibc 2.36 caches clock_gettime, gettimeofday, time and getcpu: finding none means its
     * layout changed under us, and clocks would silently be real. */
    return result == 0 ? -ENOENT : 0;
}
