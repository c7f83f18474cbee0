#!/bin/sh
# purity.sh: proves the pure core (scheduler/, faults/) does no I/O and makes no syscalls.
#
# Usage: purity.sh NM ARCHIVE SOURCE_DIR...
# Fails (exit 1) when an object in ARCHIVE needs a symbol that no object in the archive defines
# and that is not on the allowlist below (libc's pure memory and string functions, moon_panic, and
# helpers a compiler or an instrumented build may call), or when a C file under a SOURCE_DIR
# includes an OS header. Exit 99 (meson's hard error) on bad usage. Known hole: a call made through
# a builtin the compiler expands inline (or inline assembly) leaves no symbol; the include check
# is what catches the headers such code would need.
set -u
LC_ALL=C
export LC_ALL

if [ "$#" -lt 3 ]; then
    echo "usage: $0 NM ARCHIVE SOURCE_DIR..." >&2
    exit 99
fi
nm_program=$1
archive=$2
shift 2
if [ ! -f "$archive" ]; then
    echo "purity: no archive at $archive" >&2
    exit 99
fi

allowed='^(memset|memcpy|memmove|memcmp|memchr|strcmp|strchr|strlen|moon_panic)$'
# Stack protector, PIC, sanitizer and coverage runtime entry points: the build's, not the core's.
allowed_helpers='^(__stack_chk_fail|__stack_chk_guard|_GLOBAL_OFFSET_TABLE_)$'
allowed_helpers="$allowed_helpers"'|^__(asan|ubsan|tsan|msan|sanitizer_cov|gcov|llvm_gcov)_'
# libgcc arithmetic (128-bit division, overflow checks, bit counts): pure functions.
allowed_helpers="$allowed_helpers"'|^__(u?(div|mod)ti3|multi3|mulo[dt]i4|(popcount|clz|ctz)[dt]i2)$'

work=$(mktemp -d) || exit 99
trap 'rm -rf "$work"' EXIT

# The objects call each other, so a symbol is external only when no object defines it.
"$nm_program" -u "$archive" >"$work/nm_undefined" || exit 99
"$nm_program" --defined-only "$archive" >"$work/nm_defined" || exit 99
awk '$1 == "U" || $1 == "w" { print $2 }' "$work/nm_undefined" | sort -u >"$work/undefined"
awk 'NF == 3 { print $3 }' "$work/nm_defined" | sort -u >"$work/defined"
comm -23 "$work/undefined" "$work/defined" >"$work/external"

status=0
while read -r symbol; do
    if printf '%s\n' "$symbol" | grep -Eq "$allowed|$allowed_helpers"; then continue; fi
    echo "purity: $archive needs '$symbol', which the pure core must not use" >&2
    status=1
done <"$work/external"

# A pure file includes none of these: they are how C code reaches the OS, a clock or stdio.
forbidden_headers='(unistd|fcntl|time|pthread|stdio|dlfcn|signal|sys/[^>]*)'
forbidden="^[[:space:]]*#[[:space:]]*include[[:space:]]*<$forbidden_headers\\.h>"
for directory in "$@"; do
    if [ ! -d "$directory" ]; then
        echo "purity: no directory $directory" >&2
        exit 99
    fi
    for file in $(find "$directory" -name '*.[ch]' | sort); do
        if grep -En "$forbidden" "$file" >&2; then
            echo "purity: $file includes an OS header (line above)" >&2
            status=1
        fi
    done
done

if [ "$status" -eq 0 ]; then
    echo "purity: external symbols, all allowed: $(tr '\n' ' ' <"$work/external")"
fi
exit "$status"
