#!/usr/bin/env bash
# run.sh: five tables (the fifth: signals and processes, see process_table). First, the per-call cost of write, clock_gettime and getrandom natively,
# under libmoonshim.so and under two peers (strace fault injection, libfiu's POSIX preload).
# Second, the cost of a thread handoff (bench/handoff.c: futex and mutex/condvar ping-pong)
# natively, unpinned and pinned to one CPU, and under libmoonshim.so. Third, the cost of modelled
# storage: sqlite3 inserting rows one transaction each (WAL, synchronous=FULL and OFF) and
# bench/storage_loop.c (4 KiB pwrite, with and without fdatasync) natively, under libmoonshim.so
# with the files modelled (storage.paths = their directory) and not modelled.
#
# Usage: bash bench/run.sh [BUILD_DIR]      (default BUILD_DIR: build)
# Environment: CC (default cc), BENCH_SCALE (divide every N by this, default 1; for a smoke run),
#              BENCH_RUNS (timed runs per measurement, default 5), BENCH_TIMER=date (time with
#              date even if hyperfine is installed), BENCH_ONLY=calls|handoff|storage|net (one
#              table only).
#
# Method: bench/loop.c and bench/handoff.c are compiled with $CC -O2 into a temporary directory.
# Each cell times the program at N calls (or round trips, or inserts) and at 0, in the same
# configuration, and reports (median(N) - median(0)) / N, so start-up (loading the shim, strace
# attaching, fiu-run's bash, creating the second thread, opening the database) is not charged to
# the calls. The storage table recreates its data directory, untimed, before every run. Timing is
# hyperfine's when it is installed (no shell in between), else date +%s%N around each run; either
# way the median of BENCH_RUNS runs after one warm-up. The storage table's sqlite3 rows need
# sqlite3 (skipped without).
# In the first table every measured command is pinned to one CPU with taskset, as the design pins
# a simulation; its last column repeats strace unpinned, where each ptrace stop crosses CPUs and
# costs far more. The second table says per column how it is pinned.
# LD_PRELOAD is set by `env` (or by fiu-run) right before the program is exec'd, never on taskset,
# strace or hyperfine themselves. Peers that are not installed are skipped with a message.
# Exits 1 if any measured run failed (its cell says "fail"), 2 on a usage or setup error.
set -euo pipefail

build_dir=${1:-build}
scale=${BENCH_SCALE:-1}
runs=${BENCH_RUNS:-5}
only=${BENCH_ONLY:-}
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
    echo "run.sh: $*" >&2
    exit 2
}

[[ $# -le 1 ]] || die "usage: bash bench/run.sh [BUILD_DIR]"
[[ $scale =~ ^[1-9][0-9]*$ ]] || die "BENCH_SCALE must be a positive integer, not '$scale'"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$runs'"
[[ $only =~ ^(|calls|handoff|storage|net|process)$ ]] ||
    die "BENCH_ONLY must be calls, handoff, storage, net or process, not '$only'"
shim_lib=$(cd "$build_dir" 2>/dev/null && pwd)/shim/libmoonshim.so ||
    die "build directory '$build_dir' does not exist (meson setup $build_dir first)"
[[ -f $shim_lib ]] || die "$shim_lib is missing: run 'meson compile -C $build_dir' first"

work=$(mktemp -d "${TMPDIR:-/tmp}/moonshim-bench.XXXXXX")
# Process ids of redis-servers the net table started and has not yet seen exit.
servers=()
cleanup() {
    local pid
    for pid in "${servers[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
loop=$work/loop
"${CC:-cc}" -O2 -Wall -Wextra -std=c11 -o "$loop" "$bench_dir/loop.c" ||
    die "could not compile $bench_dir/loop.c"
handoff=$work/handoff
"${CC:-cc}" -O2 -Wall -Wextra -std=c11 -pthread -o "$handoff" "$bench_dir/handoff.c" ||
    die "could not compile $bench_dir/handoff.c"
storage_loop=$work/storage_loop
"${CC:-cc}" -O2 -Wall -Wextra -std=c11 -o "$storage_loop" "$bench_dir/storage_loop.c" ||
    die "could not compile $bench_dir/storage_loop.c"
pingpong=$work/pingpong
"${CC:-cc}" -O2 -Wall -Wextra -std=c11 -pthread -o "$pingpong" "$bench_dir/pingpong.c" ||
    die "could not compile $bench_dir/pingpong.c"

# Pin to the first CPU this shell may use; without taskset nothing is pinned.
pin=()
if command -v taskset >/dev/null; then
    cpu=$(taskset -cp $$ | sed 's/.*: *//; s/[-,].*//')
    pin=(taskset -c "$cpu")
else
    echo "run.sh: taskset not found; measuring unpinned" >&2
    cpu=none
fi

use_hyperfine=0
if [[ ${BENCH_TIMER:-} == date ]]; then
    echo "run.sh: BENCH_TIMER=date; timing with date" >&2
elif command -v hyperfine >/dev/null && hyperfine --help | grep -q -- '--shell=none'; then
    use_hyperfine=1
else
    echo "run.sh: hyperfine not found (apt-get install -y hyperfine); timing with date" >&2
fi
timer="date"
((use_hyperfine == 0)) || timer=hyperfine
have_strace=0
if command -v strace >/dev/null; then
    have_strace=1
else
    echo "run.sh: strace not found (apt-get install -y strace); skipped" >&2
fi
have_fiu=0
if command -v fiu-run >/dev/null; then
    have_fiu=1
else
    echo "run.sh: fiu-run not found (apt-get install -y fiu-utils); skipped" >&2
fi

# Run, untimed, before every timed run (and the warm-up) when not empty: the storage table sets it
# (with local) to recreate its data directory.
prepare=()

# Sets the array `counted` to the command "$2"... for N = $1: @N@ in any argument is replaced by
# N; if no argument holds @N@, N is appended as the last argument.
with_count() {
    local n=$1 arg found=0
    shift
    counted=()
    for arg in "$@"; do
        [[ $arg != *@N@* ]] || found=1
        counted+=("${arg//@N@/$n}")
    done
    ((found)) || counted+=("$n")
}

# Prints the median, in seconds, of "$runs" runs of the command "$@" after one warm-up run.
# Fails (returns 1, showing the command's stderr) if any run exits non-zero.
median_seconds_date() {
    local times=() start end i
    for ((i = 0; i <= runs; i++)); do
        if ((${#prepare[@]})) && ! "${prepare[@]}" >/dev/null 2>"$work/stderr"; then
            tail -n 5 "$work/stderr" >&2
            return 1
        fi
        start=$(date +%s%N)
        if ! "$@" >/dev/null 2>"$work/stderr"; then
            tail -n 5 "$work/stderr" >&2
            return 1
        fi
        end=$(date +%s%N)
        ((i == 0)) || times+=("$((end - start))")
    done
    printf '%s\n' "${times[@]}" | sort -n |
        awk '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
                                  printf "%.9f\n", m / 1e9 }'
}

# Prints "median(0 calls) median(N calls)" in seconds for the command "$@" at 0 and at N (see
# with_count); "$1" is N. Fails (returns 1, showing the command's stderr) if any run exits non-zero.
measure_pair() {
    local count=$1 counted
    shift
    local -a zero full
    with_count 0 "$@"
    zero=("${counted[@]}")
    with_count "$count" "$@"
    full=("${counted[@]}")
    if ((use_hyperfine == 0)); then
        local base_s full_s
        base_s=$(median_seconds_date "${zero[@]}") || return 1
        full_s=$(median_seconds_date "${full[@]}") || return 1
        echo "$base_s $full_s"
        return 0
    fi
    local -a prepare_opt=()
    ((${#prepare[@]} == 0)) || prepare_opt=(--prepare "$(printf '%q ' "${prepare[@]}")")
    if ! hyperfine -N --style none --warmup 1 --runs "$runs" --export-csv "$work/times.csv" \
        "${prepare_opt[@]}" "$(printf '%q ' "${zero[@]}")" "$(printf '%q ' "${full[@]}")" \
        >/dev/null 2>"$work/stderr"; then
        tail -n 3 "$work/stderr" >&2
        if ((${#prepare[@]} == 0)) || "${prepare[@]}" >/dev/null 2>&1; then
            "${full[@]}" 2>&1 >/dev/null | tail -n 5 >&2 || true
        fi
        return 1
    fi
    # Columns end with median,user,system,min,max; the command column may hold commas.
    awk -F, 'NR > 1 { printf "%s ", $(NF - 4) } END { print "" }' "$work/times.csv"
}

# Prints nanoseconds per call for "$@" at N (see with_count), or "fail". Arguments: N (divided
# by BENCH_SCALE here), then the command.
per_call_ns() {
    local count=$(($1 / scale)) pair counted
    shift
    if ! pair=$(measure_pair "$count" "$@"); then
        with_count "$count" "$@"
        echo "run.sh: failed: ${counted[*]}" >&2
        : >"$work/failed"
        echo fail
        return 0
    fi
    awk -v n="$count" -v pair="$pair" \
        'BEGIN { split(pair, t, " "); printf "%.1f\n", (t[2] - t[1]) * 1e9 / n }'
}

# Prints microseconds per call (2 decimals) for per_call_ns's arguments, or "fail".
per_call_us() {
    local ns
    ns=$(per_call_ns "$@")
    awk -v ns="$ns" 'BEGIN { if (ns + 0 == ns) printf "%.2f\n", ns / 1000; else print ns }'
}

# Prints "a/b" as a ratio (two decimals below 0.1), or "-" if either is not a number.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 == a && b + 0 == b && b > 0)
                                         printf (a / b < 0.095 ? "%.2fx\n" : "%.1fx\n"), a / b
                                     else print "-" }'
}

# The first table: the cost of one intercepted call.
calls_table() {
    # Call counts per configuration, chosen so each timed run takes roughly 0.5-1 s on a 2-vCPU
    # machine: the shim's trapped calls cost microseconds, strace's tens of microseconds. The
    # shim's clock count stays below threads.livelock_calls (default 10 000 000): a clock read
    # does not move virtual time, so more reads in a row than that end the run as a livelock.
    local workload call strace_cmd
    local -A native_n=([write]=2000000 [clock]=40000000 [getrandom]=1000000 [raw_clock]=2000000)
    local -A shim_n=([write]=2000000 [clock]=5000000 [getrandom]=200000 [raw_clock]=200000)
    local -A strace_call=([write]=write [getrandom]=getrandom [raw_clock]=clock_gettime)
    local -A strace_ret=([write]=1 [getrandom]=16 [raw_clock]=0)
    local strace_n=20000 strace_unpinned_n=2000 fiu_n=1000000

    local -A native shim strace strace_unpinned fiu
    for workload in write clock getrandom raw_clock; do
        echo "run.sh: measuring $workload" >&2
        native[$workload]=$(per_call_ns "${native_n[$workload]}" "${pin[@]}" "$loop" "$workload")
        shim[$workload]=$(per_call_ns "${shim_n[$workload]}" "${pin[@]}" \
            env LD_PRELOAD="$shim_lib" MOONSHIM_SEED=1 "$loop" "$workload")
        strace[$workload]=-
        strace_unpinned[$workload]=-
        fiu[$workload]=-
        if ((have_strace)) && [[ -n ${strace_call[$workload]:-} ]]; then
            call=${strace_call[$workload]}
            strace_cmd=(strace -f -qq -o /dev/null -e "trace=$call"
                -e "inject=$call:retval=${strace_ret[$workload]}" "$loop" "$workload")
            strace[$workload]=$(per_call_ns "$strace_n" "${pin[@]}" "${strace_cmd[@]}")
            strace_unpinned[$workload]=$(per_call_ns "$strace_unpinned_n" "${strace_cmd[@]}")
        fi
        if ((have_fiu)) && [[ $workload == write ]]; then
            fiu[$workload]=$(per_call_ns "$fiu_n" "${pin[@]}" fiu-run -x "$loop" "$workload")
        fi
    done
    # strace cannot see vDSO clock reads, so the clock row borrows raw_clock's strace numbers
    # (marked with *) and compares them with what the program natively pays for a clock read.
    [[ ${strace[raw_clock]} == - ]] || strace[clock]="${strace[raw_clock]}*"
    [[ ${strace_unpinned[raw_clock]} == - ]] ||
        strace_unpinned[clock]="${strace_unpinned[raw_clock]}*"

    echo
    echo "ns per call = (median(N calls) - median(0 calls)) / N; median of $runs runs ($timer);"
    echo "pinned to CPU $cpu except the last column; ratios are against native."
    printf '%-10s %9s %9s %8s %9s %8s %9s %8s %11s\n' workload native shim shim/nat \
        strace str/nat fiu fiu/nat strace-unpin
    for workload in write clock getrandom raw_clock; do
        printf '%-10s %9s %9s %8s %9s %8s %9s %8s %11s\n' "$workload" "${native[$workload]}" \
            "${shim[$workload]}" "$(ratio "${shim[$workload]}" "${native[$workload]}")" \
            "${strace[$workload]}" "$(ratio "${strace[$workload]%\*}" "${native[$workload]}")" \
            "${fiu[$workload]}" "$(ratio "${fiu[$workload]}" "${native[$workload]}")" \
            "${strace_unpinned[$workload]}"
    done
    echo "* clock: strace cannot see vDSO reads; its cells are raw_clock's (SYS_clock_gettime)."
    echo "- : not applicable (fiu-run -x wraps write but not clock_gettime or getrandom)" \
        "or skipped."
}

# The second table: a handoff between two threads (bench/handoff.c), natively and under the shim.
# Cells are ns per round trip (two handoffs). Natively: unpinned (the kernel places the threads),
# split (one thread per CPU, bound inside the program) and pinned (taskset, both on one CPU).
# Under the shim: pinned by the shim itself (threads.pin, the default; no taskset) and not.
handoff_table() {
    # Round trips per configuration, chosen so each timed run takes roughly 0.3-1 s on a 2-vCPU
    # machine (per round trip: native 5-50 us, split 40-90 us, shim 12-35 us pinned and
    # 60-150 us unpinned). Unpinned native varies most: see bench/README.md.
    local workload
    local -A native_n=([futex]=20000 [mutexcond]=20000)
    local -A split_n=([futex]=10000 [mutexcond]=10000)
    local -A pinned_n=([futex]=100000 [mutexcond]=50000)
    local -A shim_n=([futex]=40000 [mutexcond]=20000)
    local -A nopin_n=([futex]=5000 [mutexcond]=5000)
    local -A native split pinned shim nopin
    local shim_env=(env LD_PRELOAD="$shim_lib" MOONSHIM_SEED=1)
    local cpus
    cpus=$(nproc)
    for workload in futex mutexcond; do
        echo "run.sh: measuring handoff $workload" >&2
        native[$workload]=$(per_call_ns "${native_n[$workload]}" "$handoff" "$workload")
        split[$workload]=-
        if ((cpus >= 2)); then
            split[$workload]=$(per_call_ns "${split_n[$workload]}" "$handoff" --split "$workload")
        fi
        pinned[$workload]=-
        if ((${#pin[@]})); then
            pinned[$workload]=$(per_call_ns "${pinned_n[$workload]}" "${pin[@]}" \
                "$handoff" "$workload")
        fi
        shim[$workload]=$(per_call_ns "${shim_n[$workload]}" "${shim_env[@]}" \
            "$handoff" "$workload")
        nopin[$workload]=$(per_call_ns "${nopin_n[$workload]}" "${shim_env[@]}" \
            MOONSHIM_FAULTS=threads.pin=off "$handoff" "$workload")
    done

    echo
    echo "ns per round trip (= 2 handoffs) = (median(N) - median(0)) / N; median of $runs runs"
    echo "($timer). native: unpinned; split: one thread per CPU; pin: both on CPU $cpu (taskset);"
    echo "shim: pinned by the shim (threads.pin, default); shim-nopin: threads.pin=off."
    echo "shim/fut, shim/split, shim/pin: the shim cell over that column's native futex cell."
    printf '%-10s %8s %8s %8s %8s %10s %8s %10s %8s\n' workload native split pin shim \
        shim-nopin shim/fut shim/split shim/pin
    for workload in futex mutexcond; do
        printf '%-10s %8s %8s %8s %8s %10s %8s %10s %8s\n' "$workload" "${native[$workload]}" \
            "${split[$workload]}" "${pinned[$workload]}" "${shim[$workload]}" \
            "${nopin[$workload]}" "$(ratio "${shim[$workload]}" "${native[futex]}")" \
            "$(ratio "${shim[$workload]}" "${split[futex]}")" \
            "$(ratio "${shim[$workload]}" "${pinned[futex]}")"
    done
    echo "target: shim mutexcond / native unpinned futex <= 1.5x:" \
        "$(ratio "${shim[mutexcond]}" "${native[futex]}")"
    # Unpinned, the kernel decides whether the two native threads share a CPU; say which it was.
    if awk -v n="${native[futex]}" -v p="${pinned[futex]}" \
        'BEGIN { exit !(n + 0 == n && p + 0 == p && p > 0 && n < 2 * p) }'; then
        echo "note: native unpinned futex is within 2x of pinned: the kernel kept both threads on"
        echo "one CPU this time (usual when another process keeps the second CPU busy)."
    fi
}

# The third table: modelled storage. sqlite3 inserts rows, one transaction (autocommit INSERT) each,
# into a fresh WAL database with synchronous=FULL (each commit fdatasyncs the WAL) and OFF (no
# syncs); bench/storage_loop.c overwrites 4 KiB blocks with and without an fdatasync after each.
# Measured natively; under the shim with the data directory modelled (storage.paths = it; no
# faults; the latency model on, which costs virtual time, not wall time); and under the shim with
# storage.paths = another, empty directory (nothing modelled: the shim's baseline cost on the same
# syscalls). Cells are microseconds per insert or per write. A modelled fsync is never performed
# for real; natively and unmodelled every fsync waits for the disk.
storage_table() {
    # Counts chosen so each timed run takes roughly 0.05-1 s on a 2-vCPU machine with an idle
    # disk. Per op, natively and unmod: sqlite-full 250-350 us, sqlite-off 12-25 us, pwrite+sync
    # 150-300 us, pwrite 1-2 us (a busy disk can make a real fsync several times slower); model:
    # 10-50 us. Every column runs the same N. The modelled cost of a sync grows with the number
    # of changes logged before it (see bench/README.md), so the syncing rows are measured under
    # the model a second time at 5N (column model-5N).
    local -A n=([full]=2000 [off]=20000 [sync]=2000 [nosync]=50000)
    if ! command -v sqlite3 >/dev/null; then
        echo "run.sh: sqlite3 not found (apt-get install -y sqlite3); its rows skipped" >&2
    fi
    # Resolved, so the paths the programs open compare equal to the resolved storage path.
    local base
    base=$(cd "$work" && pwd -P)
    local data=$base/data elsewhere=$base/elsewhere fstype
    fstype=$(stat -f -c %T "$base" 2>/dev/null) || fstype=unknown
    mkdir -p "$elsewhere"
    # shellcheck disable=SC2016 # expanded by the bash that runs the file
    printf '%s\n' 'rm -rf -- "$1"' 'mkdir -- "$1"' >"$work/fresh.sh"
    # Before every run, timed or not: a fresh, empty data directory.
    local -a prepare=(bash "$work/fresh.sh" "$data")
    local mode count
    for mode in FULL OFF; do
        count=$((n[${mode,,}] / scale))
        [[ $mode == OFF ]] || count="$count $((5 * n[${mode,,}] / scale))"
        for count in 0 $count; do
            {
                echo "PRAGMA journal_mode=WAL;"
                echo "PRAGMA synchronous=$mode;"
                echo "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);"
                awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++)
                    printf "INSERT INTO t(v) VALUES (\047row %d: %s\047);\n", i,
                           "the quick brown fox jumps over the lazy dog" }'
            } >"$work/insert-$mode-$count.sql"
        done
    done
    local -a model_env=(env LD_PRELOAD="$shim_lib" MOONSHIM_SEED=1
        "MOONSHIM_FAULTS=storage.paths=$data,storage.latency=on")
    local -a unmod_env=(env LD_PRELOAD="$shim_lib" MOONSHIM_SEED=1
        "MOONSHIM_FAULTS=storage.paths=$elsewhere,storage.latency=on")
    local -A label=([full]=sqlite-full [off]=sqlite-off [sync]=pwrite+sync [nosync]=pwrite)
    local -A native model model5 unmod
    local workload events
    local -a program
    for workload in full off sync nosync; do
        native[$workload]=-
        model[$workload]=-
        unmod[$workload]=-
        case $workload in
        full | off)
            command -v sqlite3 >/dev/null || continue
            program=(sqlite3 -batch -bail "$data/db" ".read $work/insert-${workload^^}-@N@.sql")
            ;;
        *) program=("$storage_loop" "$workload" "$data/file") ;;
        esac
        echo "run.sh: measuring storage ${label[$workload]}" >&2
        # Check, once, that the modelled configuration models the files and the other does not:
        # count the storage events in a trace of the 0-count run.
        with_count 0 "${program[@]}"
        for mode in model unmod; do
            "${prepare[@]}"
            rm -f "$work/trace.json"
            if [[ $mode == model ]]; then
                env MOONSHIM_TRACE="$work/trace.json" "${model_env[@]}" "${counted[@]}" \
                    >/dev/null 2>&1 || true
            else
                env MOONSHIM_TRACE="$work/trace.json" "${unmod_env[@]}" "${counted[@]}" \
                    >/dev/null 2>&1 || true
            fi
            events=$(grep -c '"kind":"storage"' "$work/trace.json" 2>/dev/null) || events=0
            if { [[ $mode == model ]] && ((events == 0)); } ||
                { [[ $mode == unmod ]] && ((events > 0)); }; then
                echo "run.sh: ${label[$workload]}: $events storage events in a traced $mode run" \
                    "(expected some in model, none in unmod): the $mode column is wrong" >&2
                : >"$work/failed"
            fi
        done
        native[$workload]=$(per_call_us "${n[$workload]}" "${pin[@]}" "${program[@]}")
        model[$workload]=$(per_call_us "${n[$workload]}" "${pin[@]}" "${model_env[@]}" \
            "${program[@]}")
        model5[$workload]=-
        if [[ $workload == full || $workload == sync ]]; then
            model5[$workload]=$(per_call_us "$((5 * n[$workload]))" "${pin[@]}" \
                "${model_env[@]}" "${program[@]}")
        fi
        unmod[$workload]=$(per_call_us "${n[$workload]}" "${pin[@]}" "${unmod_env[@]}" \
            "${program[@]}")
    done

    echo
    echo "us per insert (sqlite3, one transaction each, WAL) or per 4 KiB pwrite (storage_loop)"
    echo "= (median(N) - median(0)) / N; median of $runs runs ($timer); pinned to CPU $cpu;"
    echo "data in a fresh directory on $fstype. N: sqlite-full $((n[full] / scale))," \
        "sqlite-off $((n[off] / scale)),"
    echo "pwrite+sync $((n[sync] / scale)), pwrite $((n[nosync] / scale))."
    echo "model: shim, storage.paths = the data directory (modelled, no faults, virtual latency);"
    echo "model-5N: the same at 5N; unmod: shim, storage.paths elsewhere (nothing modelled)."
    echo "mod/nosync: model over native of the same workload without syncs."
    printf '%-12s %9s %9s %9s %9s %8s %8s %10s\n' workload native model model-5N unmod \
        mod/nat unm/nat mod/nosync
    local nosync
    for workload in full off sync nosync; do
        nosync=-
        case $workload in
        full) nosync=$(ratio "${model[full]}" "${native[off]}") ;;
        sync) nosync=$(ratio "${model[sync]}" "${native[nosync]}") ;;
        esac
        printf '%-12s %9s %9s %9s %9s %8s %8s %10s\n' "${label[$workload]}" \
            "${native[$workload]}" "${model[$workload]}" "${model5[$workload]}" \
            "${unmod[$workload]}" \
            "$(ratio "${model[$workload]}" "${native[$workload]}")" \
            "$(ratio "${unmod[$workload]}" "${native[$workload]}")" "$nosync"
    done
    echo "A modelled fsync/fdatasync is not performed (the model only marks the data durable);"
    echo "native and unmod ones wait for the disk. native fsync cost per commit (full - off):" \
        "$(awk -v a="${native[full]}" -v b="${native[off]}" \
            'BEGIN { if (a + 0 == a && b + 0 == b) printf "%.1f us\n", a - b; else print "-" }')"
    [[ $fstype != tmpfs ]] ||
        echo "note: the data directory is on tmpfs, where fsync costs nothing; set TMPDIR" \
            "to a directory on disk."
}

# Prints a TCP port on 127.0.0.1 that nothing accepts on (a connection attempt is refused).
free_port() {
    local port
    for port in $(shuf -i 20000-60000 -n 50); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# Starts "$@" (a redis-server command line listening on port $1) in the background, waits until it
# answers PING, runs redis-benchmark against it, shuts it down and sets the array rps to
# (SET_RPS GET_RPS), or (fail fail). Arguments: the port, then the command. Not to be called in a
# subshell: the server's pid goes into `servers`, which the EXIT trap kills.
redis_rps() {
    local port=$1 pid i out set get
    shift
    "$@" >"$work/redis.log" 2>&1 &
    pid=$!
    servers+=("$pid")
    for ((i = 0; i < 100; i++)); do
        [[ $(redis-cli -p "$port" ping 2>/dev/null) != PONG ]] || break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    set=fail
    get=fail
    if [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] &&
        out=$(redis-benchmark -p "$port" -q -n "$((50000 / scale))" -t set,get -P 1 2>&1 |
            tr '\r' '\n' | grep 'requests per second'); then
        set=$(awk '$1 == "SET:" { print $2 }' <<<"$out")
        get=$(awk '$1 == "GET:" { print $2 }' <<<"$out")
    fi
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    servers=()
    if [[ $set == fail || $get == fail || -z $set || -z $get ]]; then
        echo "run.sh: redis failed: $*" >&2
        tail -n 5 "$work/redis.log" >&2
        : >"$work/failed"
        rps=(fail fail)
        return 0
    fi
    rps=("$set" "$get")
}

# The fourth table: the network model. bench/pingpong.c exchanges 64-byte messages between two
# threads over TCP loopback; cells are ns per round trip (one message each way). Measured natively
# (unpinned, and pinned to one CPU with taskset), under the shim (it pins itself; network latency
# on, which moves virtual time only, and off) and under plain strace tracing sendto/recvfrom (a
# ptrace peer: strace cannot inject a socket transfer, so it only stops on each call). Then
# redis-benchmark (SET and GET, 50 000 requests each, 50 clients, no pipelining) against
# redis-server natively and under moonshim exec; cells are requests per second.
net_table() {
    # Round trips per configuration, so each timed run takes roughly 0.3-0.8 s on a 2-vCPU
    # machine (per round trip: native 4-20 us, shim 30-45 us, strace 250-300 us). The issue's 1M
    # messages would take 20 s natively and 5 min under strace per run, so N is smaller and every
    # cell is normalised per round trip.
    local pp_n=20000 pp_pin_n=50000 pp_strace_n=2000
    local shim_env=(env LD_PRELOAD="$shim_lib" MOONSHIM_SEED=1)
    local pp_native pp_pin=- pp_shim pp_nolat pp_strace=-
    echo "run.sh: measuring net pingpong" >&2
    pp_native=$(per_call_ns "$pp_n" "$pingpong")
    ((${#pin[@]} == 0)) || pp_pin=$(per_call_ns "$pp_pin_n" "${pin[@]}" "$pingpong")
    pp_shim=$(per_call_ns "$pp_n" "${shim_env[@]}" "$pingpong")
    pp_nolat=$(per_call_ns "$pp_n" "${shim_env[@]}" MOONSHIM_FAULTS=network.latency=off \
        "$pingpong")
    if ((have_strace)); then
        pp_strace=$(per_call_ns "$pp_strace_n" strace -f -qq -o /dev/null \
            -e trace=sendto,recvfrom "$pingpong")
    fi

    local have_redis=0 port dir native_rps=(- -) shim_rps=(- -)
    local -a rps
    if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null &&
        command -v redis-cli >/dev/null; then
        have_redis=1
    else
        echo "run.sh: redis-server, redis-benchmark or redis-cli not found" \
            "(apt-get install -y redis-server redis-tools); redis rows skipped" >&2
    fi
    if ((have_redis)); then
        dir=$(cd "$work" && pwd -P)/redis
        mkdir -p "$dir"
        local -a server_args=(--bind 127.0.0.1 --save "" --appendonly no --dir "$dir")
        echo "run.sh: measuring net redis" >&2
        port=$(free_port) || die "no free TCP port found for redis-server"
        redis_rps "$port" redis-server --port "$port" "${server_args[@]}"
        native_rps=("${rps[@]}")
        port=$(free_port) || die "no free TCP port found for redis-server"
        redis_rps "$port" "${shim_lib%/shim/libmoonshim.so}/tools/moonshim" exec --quiet \
            --seed 1 --faults "storage.paths=$dir,storage.fast_local=on,time.external_wall=on" \
            -- redis-server --port "$port" "${server_args[@]}"
        shim_rps=("${rps[@]}")
    fi

    echo
    echo "pingpong: ns per round trip (one 64-byte message each way over TCP 127.0.0.1, two"
    echo "threads, blocking send/recv) = (median(N) - median(0)) / N;" \
        "median of $runs runs ($timer)."
    echo "N: $((pp_n / scale)), pin $((pp_pin_n / scale)), strace $((pp_strace_n / scale))." \
        "native: unpinned; pin: taskset -c $cpu;"
    echo "shim: LD_PRELOAD, MOONSHIM_SEED=1, no faults (virtual latency); shim-nolat:" \
        "network.latency=off;"
    echo "strace: strace -f -e trace=sendto,recvfrom (ptrace stops only, nothing injected)."
    printf '%-10s %9s %9s %9s %10s %9s %8s %8s %8s\n' workload native pin shim shim-nolat \
        strace shim/nat shim/pin str/nat
    printf '%-10s %9s %9s %9s %10s %9s %8s %8s %8s\n' pingpong "$pp_native" "$pp_pin" "$pp_shim" \
        "$pp_nolat" "$pp_strace" "$(ratio "$pp_shim" "$pp_native")" \
        "$(ratio "$pp_shim" "$pp_pin")" \
        "$(ratio "$pp_strace" "$pp_native")"
    if ((have_redis)); then
        echo
        echo "redis-benchmark -q -n $((50000 / scale)) -t set,get -P 1 (50 clients), requests/s;"
        echo "shim: moonshim exec --seed 1 --faults storage.paths=DIR,storage.fast_local=on,"
        echo "time.external_wall=on -- redis-server (redis-benchmark runs natively). One run each."
        printf '%-10s %9s %9s %8s\n' request native shim shim/nat
        printf '%-10s %9s %9s %8s\n' SET "${native_rps[0]}" "${shim_rps[0]}" \
            "$(ratio "${shim_rps[0]}" "${native_rps[0]}")"
        printf '%-10s %9s %9s %8s\n' GET "${native_rps[1]}" "${shim_rps[1]}" \
            "$(ratio "${shim_rps[1]}" "${native_rps[1]}")"
    fi
}

# The fifth table: signals and processes. raise(SIGUSR1) with a handler (the shim catches,
# queues and runs the handler at the end of the trapped tgkill) and fork+_exit+waitpid (under
# the shim the child sets up its own trace-less run: new streams, a new doorbell, the fork hooks).
process_table() {
    local workload
    local -A native_n=([raise]=1000000 [fork]=5000) shim_n=([raise]=100000 [fork]=2000)
    local -A native shim strace
    for workload in raise fork; do
        echo "run.sh: measuring $workload" >&2
        native[$workload]=$(per_call_ns "${native_n[$workload]}" "${pin[@]}" "$loop" "$workload")
        shim[$workload]=$(per_call_ns "${shim_n[$workload]}" "${pin[@]}" \
            env LD_PRELOAD="$shim_lib" MOONSHIM_SEED=1 "$loop" "$workload")
        strace[$workload]=-
        if ((have_strace)); then
            strace[$workload]=$(per_call_ns 2000 "${pin[@]}" strace -f -qq -o /dev/null \
                -e trace=tgkill,clone,wait4 "$loop" "$workload")
        fi
    done
    echo
    echo "ns per operation = (median(N) - median(0)) / N; median of $runs runs ($timer); pinned to"
    echo "CPU $cpu; strace traces tgkill,clone,wait4 (what a tracer would have to stop on)."
    printf '%-10s %10s %10s %8s %10s %8s\n' workload native shim shim/nat strace str/nat
    for workload in raise fork; do
        printf '%-10s %10s %10s %8s %10s %8s\n' "$workload" "${native[$workload]}" \
            "${shim[$workload]}" "$(ratio "${shim[$workload]}" "${native[$workload]}")" \
            "${strace[$workload]}" "$(ratio "${strace[$workload]}" "${native[$workload]}")"
    done
}

case $only in
calls) calls_table ;;
process) process_table ;;
handoff) handoff_table ;;
storage) storage_table ;;
net) net_table ;;
*)
    calls_table
    handoff_table
    storage_table
    net_table
    process_table
    ;;
esac
[[ ! -e $work/failed ]] || exit 1
