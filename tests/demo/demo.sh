#!/usr/bin/env bash
# demo.sh: moonshim finds real bugs from a seed, and replays them exactly.
#
# usage: tests/demo/demo.sh [BUILD_DIR]   (after `meson setup build && meson compile -C build`)
# Part 1 runs tests/demo/backoff.c (a retry loop with a deadline bug that only some random draws
# expose) under `moonshim exec` for seeds 1..200, reports the failing seeds, then replays the first
# one twice with --verify: same seed, same failure, same event hash.
# Part 2 (when sqlite3 is installed) crashes Debian's sqlite3 at seed-chosen moments, restarts it,
# and checks that every row it acknowledged survived: rollback-journal mode with
# synchronous=FULL loses acknowledged rows (the journal's unlink is not followed by a directory
# fsync; SQLite documents synchronous=EXTRA for that), while WAL mode with FULL keeps them all.
# Exits 0 when the bugs were found and the replays reproduced them, 1 otherwise.
set -u
build=${1:-build}
tool="$build/tools/moonshim"
program="$build/tests/demo/backoff"
for needed in "$tool" "$program"; do
    [ -x "$needed" ] || { echo "demo: $needed is missing: build first (meson compile -C $build)" >&2; exit 2; }
done

echo "== Sweeping seeds 1..200 of $program under moonshim (virtual time, seeded randomness)"
failing=()
start=$(date +%s%N)
for seed in $(seq 1 200); do
    if ! "$tool" exec --quiet --seed "$seed" -- "$program" >/dev/null 2>&1; then
        failing+=("$seed")
    fi
done
wall_ms=$((($(date +%s%N) - start) / 1000000))
echo "   200 runs (each up to 30 s of virtual time) took ${wall_ms} ms of wall time"
if [ ${#failing[@]} -eq 0 ]; then
    echo "demo: no seed failed; the bug was not found" >&2
    exit 1
fi
echo "   ${#failing[@]} failing seeds: ${failing[*]:0:15}$([ ${#failing[@]} -gt 15 ] && echo ' ...')"

seed=${failing[0]}
echo
echo "== Replaying seed $seed twice (--verify): the failure and its whole event stream repeat"
trace=$(mktemp /tmp/moonshim-demo-XXXXXX.trace)
"$tool" exec --seed "$seed" --verify --trace "$trace" -- "$program" 2>&1
status=$?
echo
echo "== Last events of the failing run ($trace):"
tail -n 4 "$trace"
if [ $status -ne 1 ]; then
    echo "demo: replay of seed $seed exited $status, expected 1 (the program's failure)" >&2
    exit 1
fi
echo
echo "demo: found the deadline bug with seed $seed, and the replay reproduced it exactly."

here=$(cd "$(dirname "$0")" && pwd)
if ! command -v sqlite3 >/dev/null; then
    echo "demo: sqlite3 is not installed; skipping part 2"
    exit 0
fi
echo
echo "== Part 2: sqlite3 crashed at seed-chosen moments (process.crash_probability), restarted,"
echo "   and checked: is every row it acknowledged still there?"
bash "$here/../storage/sqlite_crash.sh" "$tool" WAL FULL 20 expect-pass || exit 1
bash "$here/../storage/sqlite_crash.sh" "$tool" DELETE FULL 20 expect-catch || exit 1
echo
echo "demo: sqlite3 in rollback-journal mode with synchronous=FULL loses acknowledged rows after a"
echo "power loss; each failing seed replays the loss. With journal_mode=WAL (or synchronous=EXTRA)"
echo "no seed loses anything."
