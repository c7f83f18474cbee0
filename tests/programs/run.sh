#!/usr/bin/env bash
# run.sh: run one integration program under the shim and judge the outcome.
#
# usage: run.sh MODE PROGRAM [ARGS...]      (MOONSHIM_TOOL and MOONSHIM_LIBRARY set by meson)
#   same          seeds 1 and 2, each run twice: exit 0, identical stdout and trace per seed
#   differ        as `same`, and seed 1's stdout must differ from seed 2's
#   output        seeds 1 and 2, each run 3 times: exit 0 and identical stdout per seed (traces
#                 not compared: for programs whose processes talk, whose timing is the kernel's)
#   verify        `moonshim exec --verify` must report two identical runs
#   preload       plain LD_PRELOAD (no tool): exit 0 and the shim's report line on stderr
#   exit:N:TEXT   exit status N, and TEXT somewhere on stderr
#   threads       seed 1 run 10 times: identical stdout and trace each time; seeds 1..6 must give
#                 at least 3 different interleavings (the sequence of running threads in the trace)
#   fault:NAMES   seeds 1.., each run twice identically with exit 0, until a trace shows
#                 "fault":"NAME" (at most 8 seeds)
#                 (NAMES: one name, or several as a|b; with TEST_FAULT_CALL, on that call)
#   sweep:N       seeds 1..N, each once: every run must exit 0 (no crash, no hang, no failed
#                 check) within the wall-time limit; seed 1 twice, identically
#   tree:N        seed 1 twice: exit 0, at least N processes each wrote a trace of its own
#                 (TRACE.<path>, path 1, 2, 2.1, ...), the same files both times, each identical,
#                 each with its process path in the header; seed 2's traces differ from seed 1's
#   race          seeds 1..40: some fail (the race shows) and some pass; a failing seed fails the
#                 same way 3 times more, a passing seed passes 3 times more
# Optional: TEST_FAULTS (passed as --faults), TEST_CONFIG (--config), TEST_WALL_MAX_MS (the run
# must take less wall time than this: a virtual hour must not be a real one).
set -u
mode=$1
shift
tool=${MOONSHIM_TOOL:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
extra=()
[ -n "${TEST_FAULTS:-}" ] && extra+=(--faults "$TEST_FAULTS")
[ -n "${TEST_CONFIG:-}" ] && extra+=(--config "$TEST_CONFIG")

fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.err; do [ -s "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
    exit 1
}

# run_one SEED NAME: runs the program once, stdout/stderr/trace into $work/NAME.*
run_one() {
    local start end status seed=$1 name=$2
    shift 2
    start=$(date +%s%N)
    "$tool" exec --quiet --seed "$seed" --trace "$work/$name.trace" "${extra[@]}" -- "$@" \
        >"$work/$name.out" 2>"$work/$name.err" </dev/null
    status=$?
    end=$(date +%s%N)
    if [ -n "${TEST_WALL_MAX_MS:-}" ] && [ $(((end - start) / 1000000)) -ge "$TEST_WALL_MAX_MS" ]; then
        fail "$name took $(((end - start) / 1000000)) ms of wall time (limit ${TEST_WALL_MAX_MS} ms)"
    fi
    return $status
}

program=("$@")
run_pair() {
    local seed=$1
    run_one "$seed" "s${seed}a" "${program[@]}" || fail "seed $seed run 1 exited $?"
    run_one "$seed" "s${seed}b" "${program[@]}" || fail "seed $seed run 2 exited $?"
    cmp -s "$work/s${seed}a.out" "$work/s${seed}b.out" || fail "seed $seed: stdout differs between runs"
    if ! cmp -s "$work/s${seed}a.trace" "$work/s${seed}b.trace"; then
        "$tool" trace diff "$work/s${seed}a.trace" "$work/s${seed}b.trace" >&2
        fail "seed $seed: traces differ between runs"
    fi
    tail -n 1 "$work/s${seed}a.trace" | grep -q '"end":"exit"' || fail "seed $seed: trace has no end line"
}

interleaving() {
    grep -o '"tid":[0-9]*' "$1" | tr -d '\n' | md5sum | cut -c1-16
}

case "$mode" in
tree:*)
    want=${mode#tree:}
    run_one 1 first "${program[@]}" || fail "seed 1 run 1 exited $?"
    run_one 1 second "${program[@]}" || fail "seed 1 run 2 exited $?"
    run_one 2 other "${program[@]}" || fail "seed 2 exited $?"
    children=0
    for file in "$work"/first.trace.*; do
        [ -e "$file" ] || continue
        path=${file#"$work"/first.trace.}
        grep -q "\"process\":\"$path\"" "$file" || fail "$file: no \"process\":\"$path\" in its header"
        tail -1 "$file" | grep -q '"end":' || fail "$file: no end line"
        cmp -s "$file" "$work/second.trace.$path" || {
            "$tool" trace diff "$file" "$work/second.trace.$path" >&2
            fail "process $path: traces differ between runs of seed 1"
        }
        [ -e "$work/other.trace.$path" ] && ! cmp -s "$file" "$work/other.trace.$path" ||
            fail "process $path: seed 2's trace is missing or the same as seed 1's"
        children=$((children + 1))
    done
    [ "$children" -ge "$want" ] || fail "only $children child traces (want $want)"
    cmp -s "$work/first.out" "$work/second.out" || fail "stdout differs between runs of seed 1"
    echo "ok: $children child processes, each with its own deterministic trace"
    ;;
threads)
    run_one 1 reference "${program[@]}" || fail "seed 1 exited $?"
    for run in 2 3 4 5 6 7 8 9 10; do
        run_one 1 again "${program[@]}" || fail "seed 1 run $run exited $?"
        cmp -s "$work/reference.out" "$work/again.out" || fail "seed 1 run $run: stdout differs"
        cmp -s "$work/reference.trace" "$work/again.trace" || {
            "$tool" trace diff "$work/reference.trace" "$work/again.trace" >&2
            fail "seed 1 run $run: trace differs"
        }
    done
    for seed in 1 2 3 4 5 6; do
        run_one "$seed" "seed$seed" "${program[@]}" || fail "seed $seed exited $?"
        interleaving "$work/seed$seed.trace"
    done | sort -u >"$work/interleavings"
    distinct=$(wc -l <"$work/interleavings")
    [ "$distinct" -ge 3 ] || fail "only $distinct distinct interleavings over seeds 1..6"
    echo "ok: 10 identical runs of seed 1; $distinct distinct interleavings over seeds 1..6"
    ;;
fault:*)
    name=${mode#fault:}
    seen=0
    # Call sites are active for about half the seeds (two-level activation): look at up to 8.
    for seed in 1 2 3 4 5 6 7 8; do
        run_pair "$seed"
        grep -E "\"fault\":\"($name)\"" "$work/s${seed}a.trace" |
            grep -q "\"call\":\"${TEST_FAULT_CALL:-[a-z_0-9]*}\"" && { seen=1; break; }
    done
    [ $seen -eq 1 ] || fail "no \"fault\":\"$name\" in the traces of seeds 1..8"
    echo "ok: $name injected and survived; $(cat "$work/s1a.out")"
    ;;
sweep:*)
    seeds=${mode#sweep:}
    run_pair 1
    for seed in $(seq 2 "$seeds"); do
        run_one "$seed" "sweep$seed" "${program[@]}" || fail "seed $seed exited $?"
    done
    echo "ok: $seeds seeds; seed 1: $(cat "$work/s1a.out")"
    ;;
race)
    failing="" passing=""
    for seed in $(seq 1 40); do
        if run_one "$seed" "race$seed" "${program[@]}"; then passing="$passing $seed"
        else failing="$failing $seed"; fi
    done
    [ -n "$failing" ] || fail "no seed in 1..40 exposed the race"
    [ -n "$passing" ] || fail "every seed in 1..40 exposed the race: the test cannot tell"
    bad=${failing%% *}; bad=${failing# }; bad=${bad%% *}
    good=${passing# }; good=${good%% *}
    for again in 1 2 3; do
        run_one "$bad" "bad$again" "${program[@]}" && fail "seed $bad passed on replay $again"
        cmp -s "$work/race$bad.out" "$work/bad$again.out" || fail "seed $bad: replay output differs"
        cmp -s "$work/race$bad.trace" "$work/bad$again.trace" || fail "seed $bad: replay trace differs"
        run_one "$good" "good$again" "${program[@]}" || fail "seed $good failed on replay $again"
    done
    echo "ok: race shown by seeds$failing; passing seeds$passing; seed $bad replays its failure"
    ;;
same | differ)
    run_pair 1
    run_pair 2
    if [ "$mode" = differ ] && cmp -s "$work/s1a.out" "$work/s2a.out"; then
        fail "seeds 1 and 2 produced the same output: the seed is not reaching the program"
    fi
    [ "$(tail -n 1 "$work/s1a.trace" | grep -o '"hash":"[^"]*"')" != \
      "$(tail -n 1 "$work/s2a.trace" | grep -o '"hash":"[^"]*"')" ] || fail "seeds 1 and 2 have the same hash"
    echo "ok: $mode $(tail -n 1 "$work/s1a.trace")"
    ;;
output)
    for seed in 1 2; do
        for run in a b c; do
            run_one "$seed" "o$seed$run" "${program[@]}" || fail "seed $seed run $run exited $?"
            cmp -s "$work/o${seed}a.out" "$work/o$seed$run.out" || fail "seed $seed: stdout differs between runs"
        done
    done
    echo "ok: identical output per seed: $(head -c 200 "$work/o1a.out" | tr '\n' ' ')"
    ;;
verify)
    "$tool" exec --seed 11 --verify "${extra[@]}" -- "$@" >"$work/v.out" 2>"$work/v.err" </dev/null
    status=$?
    [ $status -eq 0 ] || fail "--verify exited $status"
    grep -q 'verify: identical' "$work/v.err" || fail "--verify did not report identical runs"
    grep 'verify' "$work/v.err"
    ;;
preload)
    LD_PRELOAD=${MOONSHIM_LIBRARY:?} MOONSHIM_SEED=5 MOONSHIM_REPORT=stderr "$@" \
        >"$work/p.out" 2>"$work/p.err" </dev/null
    status=$?
    [ $status -eq 0 ] || fail "exited $status under plain LD_PRELOAD"
    grep -q '^moonshim: seed 5: [0-9]* events, hash 0x[0-9a-f]*, exit 0$' "$work/p.err" ||
        fail "no report line on stderr"
    cat "$work/p.err"
    ;;
exit:*)
    want=${mode#exit:}
    code=${want%%:*}
    text=${want#*:}
    "$tool" exec --seed 1 "${extra[@]}" -- "$@" >"$work/e.out" 2>"$work/e.err" </dev/null
    status=$?
    [ $status -eq "$code" ] || fail "exit status $status, wanted $code"
    grep -qF -- "$text" "$work/e.err" || fail "stderr does not mention '$text'"
    cat "$work/e.err"
    ;;
*)
    echo "run.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
