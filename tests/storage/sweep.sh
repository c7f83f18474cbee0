#!/usr/bin/env bash
# sweep.sh: run wal_kv under `moonshim exec` for seeds 1..SEEDS with storage faults; report the
# seeds whose check failed, and replay the first of them.
#
# usage: tests/storage/sweep.sh TOOL WAL_KV VARIANT SEEDS FAULTS [MODE]
#   TOOL     the moonshim command (build/tools/moonshim)
#   WAL_KV   build/tests/storage/wal_kv;  VARIANT: correct, no-fsync, no-checksum, rename-no-dirsync
#   FAULTS   comma-separated fault keys, added after storage.paths=DIR (may be empty)
#   MODE     (or $SWEEP_MODE; default expect-pass)
#     expect-pass    exit 0 iff no seed failed
#     expect-catch   exit 0 iff some seed failed and replaying the first failing seed fails again,
#                    with the same verdict, the same ACKFILE and the same wal.log, byte for byte
#     expect-detect  exit 0 iff some seed failed, every failure was corruption the program
#                    detected and reported (check exit 2), none silently wrong (check exit 1)
# Each seed runs in the same fresh directory ROOT/run ({data,ack}; the ACKFILE outside DIR), so a
# replay sees the same paths. Every mode also fails when a seed ends in anything but 0 or 1 (the
# simulation could not proceed, usage), or when no seed acknowledged a single key (nothing was
# tested). After the tool exits 1, the check is rerun natively to tell detected (exit 2) from
# silent (exit 1), and a passing check from a program that exited non-zero by itself (the tool
# then exits 1 too; the check decides here). SWEEP_KEEP=1 keeps ROOT. Exits 2 on usage errors.
set -u
if [ $# -lt 5 ] || [ $# -gt 6 ]; then
    sed -n '4,19s/^# \{0,1\}//p' "$0" >&2
    exit 2
fi
tool=$1 wal_kv=$2 variant=$3 seeds=$4 faults=$5 mode=${6:-${SWEEP_MODE:-expect-pass}}
case $mode in expect-pass | expect-catch | expect-detect) ;; *)
    echo "sweep: unknown mode '$mode'" >&2; exit 2 ;;
esac
case $seeds in '' | *[!0-9]*) echo "sweep: SEEDS must be a number" >&2; exit 2 ;; esac
for needed in "$tool" "$wal_kv"; do
    [ -x "$needed" ] || { echo "sweep: $needed is not an executable" >&2; exit 2; }
done

root=$(mktemp -d /tmp/wal_kv-sweep-XXXXXX)
if [ "${SWEEP_KEEP:-0}" = 1 ]; then
    trap 'echo "sweep: kept $root" >&2' EXIT
else
    trap 'rm -rf "$root"' EXIT
fi
data=$root/run/data
ack=$root/run/ack
check_command=$(printf '%q ' "$wal_kv" "$data" check "$ack" "$variant")
check_command=${check_command% }
fault_keys=storage.paths=$data${faults:+,$faults}

# run_seed SEED: run one simulation in a fresh ROOT/run; sets status (the tool's exit status)
# and verdict (pass, detected, silent, or error:WHY).
run_seed() {
    rm -rf "${root:?}/run"
    mkdir -p "$data" && : >"$ack"
    "$tool" exec --quiet --seed "$1" --restarts 3 --check "$check_command" --faults "$fault_keys" \
        -- "$wal_kv" "$data" write 40 "$ack" "$variant" >"$root/run/tool.out" 2>&1
    status=$?
    case $status in
    0) verdict=pass ;;
    1)
        "$wal_kv" "$data" check "$ack" "$variant" >"$root/run/check.out" 2>&1
        local code=$?
        case $code in
        2) verdict=detected ;;
        1) verdict=silent ;;
        0) # moonshim exec also exits 1 when the last incarnation exited non-zero (wal_kv: 75
            # after an injected I/O error, 2 when it refuses to recover over damage), even
            # though the check passed. The check decides here; such seeds are listed apart.
            if grep -q "^moonshim: seed $1: exit [1-9][0-9]*," "$root/run/tool.out"; then
                verdict=pass-program-exit
            else
                verdict="error:the tool failed the check, but it passes when rerun natively"
            fi
            ;;
        *) verdict="error:the tool failed the check; rerun natively it exits $code" ;;
        esac
        ;;
    *) verdict="error:tool exit $status" ;;
    esac
}

# same_file A B: both absent, or both present with the same bytes.
same_file() {
    if [ -e "$1" ] || [ -e "$2" ]; then cmp -s "$1" "$2"; fi
}

passed=() program_exit=() failed=() detected=() silent=() errors=()
acknowledged=0
for seed in $(seq 1 "$seeds"); do
    run_seed "$seed"
    acknowledged=$((acknowledged + $(grep -c "^key-" "$ack")))
    case $verdict in
    pass) passed+=("$seed") ;;
    pass-program-exit) passed+=("$seed") program_exit+=("$seed") ;;
    detected | silent)
        failed+=("$seed")
        if [ "$verdict" = detected ]; then detected+=("$seed"); else silent+=("$seed"); fi
        echo "seed $seed: check failed ($verdict): $(tail -n 1 "$root/run/check.out")"
        if [ ${#failed[@]} -eq 1 ]; then
            first_verdict=$verdict
            rm -rf "$root/first" && cp -r "$root/run" "$root/first"
        fi
        ;;
    *)
        errors+=("$seed")
        echo "seed $seed: ${verdict#error:}; the tool said:"
        tail -n 5 "$root/run/tool.out" | sed 's/^/    /'
        ;;
    esac
done

echo "sweep: $variant, faults '$faults', seeds 1..$seeds, mode $mode"
echo "  check passed: ${#passed[@]} seeds: ${passed[*]:0:30}"
[ ${#program_exit[@]} -eq 0 ] || echo "    of which the tool exited 1 for the program's own" \
    "non-zero exit: ${#program_exit[@]} seeds: ${program_exit[*]:0:30}"
echo "  check failed (tool exit 1): ${#failed[@]} seeds: ${failed[*]:0:30}"
echo "    detected and reported (check exit 2): ${detected[*]:-none}"
echo "    silently wrong (check exit 1): ${silent[*]:-none}"
[ ${#errors[@]} -eq 0 ] || echo "  errors (neither 0 nor 1): ${errors[*]}"
echo "  $acknowledged keys acknowledged in all"

result=0
if [ ${#errors[@]} -ne 0 ]; then
    echo "sweep: FAIL: ${#errors[@]} seeds did not run to a verdict"
    result=1
fi
if [ "$acknowledged" -eq 0 ]; then
    echo "sweep: FAIL: no seed acknowledged a key: the sweep tested nothing"
    result=1
fi
case $mode in
expect-pass)
    [ ${#failed[@]} -eq 0 ] || { echo "sweep: FAIL: expected every seed to pass"; result=1; }
    ;;
expect-detect)
    [ ${#failed[@]} -ne 0 ] || { echo "sweep: FAIL: no seed failed: nothing was detected"; result=1; }
    [ ${#silent[@]} -eq 0 ] || { echo "sweep: FAIL: seeds silently wrong: ${silent[*]}"; result=1; }
    ;;
expect-catch)
    if [ ${#failed[@]} -eq 0 ]; then
        echo "sweep: FAIL: expected some seed to fail; none did"
        result=1
    else
        seed=${failed[0]}
        run_seed "$seed"
        if [ "$verdict" != "$first_verdict" ]; then
            echo "sweep: FAIL: replay of seed $seed gave '$verdict', first run '$first_verdict'"
            result=1
        elif ! same_file "$root/first/ack" "$ack" ||
            ! same_file "$root/first/data/wal.log" "$data/wal.log"; then
            echo "sweep: FAIL: replay of seed $seed failed again, but its ACKFILE or wal.log differ"
            result=1
        else
            echo "sweep: replay of seed $seed failed again ($verdict), same ACKFILE and wal.log"
            echo "  to replay it: d=\$(mktemp -d) && mkdir \$d/data && : >\$d/ack &&"
            echo "    $tool exec --seed $seed --restarts 3" \
                "--check \"${check_command//$root\/run/\$d}\"" \
                "--faults \"${fault_keys//$root\/run/\$d}\"" \
                "-- $wal_kv \$d/data write 40 \$d/ack $variant"
        fi
    fi
    ;;
esac
[ $result -eq 0 ] && echo "sweep: ok ($mode)"
exit $result
