/* elf_check.c: refuse, before running it, a program the shim cannot reach.
 *
 * LD_PRELOAD works only on dynamically linked programs: a static binary (no PT_INTERP) would run
 * unsimulated and silently real. A "#!" script is checked through its interpreter. libelf reads
 * the program headers. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

int tool_resolve_program(const char *name, char *path, size_t path_size) {
    if (strchr(name, '/')) {
        snprintf(path, path_size, "%s", name);
        return access(path, X_OK);
    }
    const char *search = getenv("PATH");
    if (!search) search = "/usr/local/bin:/usr/bin:/bin";
    while (*search) {
        const char *colon = strchr(search, ':');
        size_t length = colon ? (size_t)(colon - search) : strlen(search);
        snprintf(path, path_size, "%.*s/%s", (int)length, length ? search : ".", name);
        if (access(path, X_OK) == 0) return 0;
        search += length + (colon ? 1 : 0);
    }
    return -1;
}

/* Reads the interpreter of a "#!" script into `interpreter`; 1 if it is a script, else 0. */
static int script_interpreter(int fd, char *interpreter, size_t size) {
    char head[256];
    ssize_t got = pread(fd, head, sizeof(head) - 1, 0);
    if (got < 2 || head[0] != '#' || head[1] != '!') return 0;
    head[got] = '\0';
    char *start = head + 2;
    while (*start == ' ' || *start == '\t') start++;
    size_t length = strcspn(start, " \t\n");
    snprintf(interpreter, size, "%.*s", (int)length, start);
    return 1;
}

static int check_elf(int fd, const char *path, char *reason, size_t reason_size) {
    if (elf_version(EV_CURRENT) == EV_NONE) {
        snprintf(reason, reason_size, "libelf is unusable");
        return -1;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ, 0);
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        snprintf(reason, reason_size, "%s: not an ELF executable or a #! script", path);
        if (elf) elf_end(elf);
        return -1;
    }
    GElf_Ehdr header;
    int result = -1;
    if (!gelf_getehdr(elf, &header) || header.e_machine != EM_X86_64 ||
        header.e_ident[EI_CLASS] != ELFCLASS64) {
        snprintf(reason, reason_size, "%s: not an x86-64 program; moonshim runs x86-64 only", path);
    } else {
        size_t count = 0;
        elf_getphdrnum(elf, &count);
        int dynamic = 0;
        for (size_t i = 0; i < count; i++) {
            GElf_Phdr segment;
            if (gelf_getphdr(elf, (int)i, &segment) && segment.p_type == PT_INTERP) dynamic = 1;
        }
        if (dynamic) result = 0;
        else
            snprintf(reason, reason_size,
                     "%s is statically linked: LD_PRELOAD cannot reach it, so it would run "
                     "unsimulated (rebuild it dynamically linked against glibc)", path);
    }
    elf_end(elf);
    return result;
}

int tool_check_binary(const char *path, char *reason, size_t reason_size) {
    for (int depth = 0; depth < 2; depth++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(reason, reason_size, "%s: %s", path, strerror(errno));
            return -1;
        }
        char interpreter[256];
        if (!script_interpreter(fd, interpreter, sizeof(interpreter))) {
            int result = check_elf(fd, path, reason, reason_size);
            close(fd);
            return result;
        }
        close(fd);
        static char interpreter_path[256];
        snprintf(interpreter_path, sizeof(interpreter_path), "%s", interpreter);
        path = interpreter_path;
    }
    snprintf(reason, reason_size, "%s: a script whose interpreter is itself a script", path);
    return -1;
}
