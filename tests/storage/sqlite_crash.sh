#!/usr/bin/env bash
# sqlite_crash.sh: the Debian sqlite3 CLI under moonshim, crashed at seed-chosen moments and
# restarted, then checked: is every row the CLI reported committed still there?
#
# usage: sqlite_crash.sh TOOL JOURNAL SYNCHRONOUS SEEDS MODE
#   JOURNAL      WAL or DELETE (PRAGMA journal_mode)
#   SYNCHRONOUS  OFF, NORMAL, FULL or EXTRA (PRAGMA synchronous)
#   MODE         expect-pass: every seed must keep every acknowledged row
#                expect-catch: some seed must lose an acknowledged row, and replay the loss
# Each run inserts rows one transaction at a time, each with a value unique to the run (random
# bytes, which moonshim derives from the seed and the incarnation), and prints "ack VALUE" after
# each commit, line buffered (stdbuf), into a file outside the modelled directory. Exits 77
# without sqlite3.
set -u
tool=$1 journal=$2 synchronous=$3 seeds=$4 mode=$5
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed: skipping"; exit 77; }
command -v stdbuf >/dev/null || { echo "stdbuf not installed: skipping"; exit 77; }
work=$(mktemp -d /tmp/moonshim-sqlite-XXXXXX)
trap 'rm -rf "$work"' EXIT

{
    echo "PRAGMA journal_mode=$journal;"
    echo "PRAGMA synchronous=$synchronous;"
    echo "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT);"
    for i in $(seq 1 40); do
        echo "INSERT INTO t(v) VALUES(hex(randomblob(8)) || '-$i');"
        echo "SELECT 'ack ' || v FROM t WHERE id = last_insert_rowid();"
    done
} >"$work/script.sql"

cat >"$work/check.sh" <<'CHECK'
#!/usr/bin/env bash
# Every acknowledged id must be in the table, and the database must be intact.
db=$1 acks=$2
[ -s "$acks" ] || exit 0
integrity=$(sqlite3 "$db" "PRAGMA integrity_check;" 2>&1)
[ "$integrity" = ok ] || { echo "integrity: $integrity" >&2; exit 1; }
present=$(sqlite3 "$db" "SELECT v FROM t;" 2>&1 | sort -u)
missing=$(grep '^ack ' "$acks" | cut -d' ' -f2 | sort -u | comm -23 - <(echo "$present"))
[ -z "$missing" ] || { echo "acknowledged rows lost: $(echo $missing | head -c 200)" >&2; exit 1; }
exit 0
CHECK
chmod +x "$work/check.sh"

# run_seed SEED: exit status of the tool for one seed, in a fresh directory.
run_seed() {
    local dir="$work/s$1"
    rm -rf "$dir" && mkdir -p "$dir/data"
    "$tool" exec --quiet --seed "$1" --restarts 3 \
        --check "$work/check.sh $dir/data/db $dir/acks" \
        --faults "storage.paths=$dir/data,process.crash_probability=0.003" \
        -- /bin/sh -c "exec stdbuf -oL sqlite3 $dir/data/db < $work/script.sql >> $dir/acks" \
        >"$dir/out" 2>&1
}

failing=()
for seed in $(seq 1 "$seeds"); do
    run_seed "$seed" || failing+=("$seed")
done
echo "journal_mode=$journal synchronous=$synchronous: ${#failing[@]} of $seeds seeds lost acknowledged rows: ${failing[*]:-none}"
case "$mode" in
expect-pass)
    [ ${#failing[@]} -eq 0 ] || { tail -5 "$work/s${failing[0]}/out"; exit 1; }
    ;;
expect-catch)
    [ ${#failing[@]} -gt 0 ] || exit 1
    seed=${failing[0]}
    run_seed "$seed" && { echo "seed $seed did not fail again on replay"; exit 1; }
    echo "seed $seed replays the loss:"; grep -E 'lost|integrity|replay' "$work/s$seed/out" | head -3
    ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
