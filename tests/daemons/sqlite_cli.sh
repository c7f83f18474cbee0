#!/usr/bin/env bash
# sqlite_cli.sh: Debian's sqlite3 shell under moonshim (faults off), driven through pipes by a
# real client (this script, through two FIFOs: it sends one step, waits for the step's end
# marker, then sends the next): a table, 500 rows inserted in five transactions, a rolled back
# transaction, a constraint error, aggregates, a window function, a recursive CTE, updates,
# deletes, an index, VACUUM, integrity_check and a SHA3 of the whole table. The transcript of
# every step must be identical to the same client driving sqlite3 natively, for three seeds, and
# so must the database's .dump. Then what the simulation changes: datetime('now') is the virtual
# epoch and randomblob() repeats for a seed and differs between seeds.
# usage: sqlite_cli.sh TOOL [SEED...]    (default seeds 1 2 3; exits 77 when sqlite3 is missing)
set -u
tool=$1
shift
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
. "$(dirname "$0")/lib.sh"
need sqlite3 timeout
work=$(mktemp -d /tmp/moonshim-sqlite-XXXXXX)
coproc_pid=""
cleanup() {
    [ -n "$coproc_pid" ] && kill -KILL "$coproc_pid" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "FAIL: $*"
    exit 1
}

# The client's script: one step per array element.
steps=()
steps+=(".headers on
.mode list
PRAGMA synchronous=FULL;
PRAGMA journal_mode;
CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, category TEXT,
                   qty INTEGER, price REAL);")
for t in 0 1 2 3 4; do
    step="BEGIN;"
    for i in $(seq $((t * 100 + 1)) $((t * 100 + 100))); do
        step+=$'\n'"INSERT INTO items(name, category, qty, price) VALUES ('item-$i', '$(printf "\\x$(printf %x $((97 + i % 5)))")', $((i * 37 % 101)), $((i * 7919 % 10000)) / 100.0);"
    done
    step+=$'\nCOMMIT;\nSELECT count(*), sum(qty), total(price) FROM items;'
    steps+=("$step")
done
step="BEGIN;"
for i in $(seq 501 550); do step+=$'\n'"INSERT INTO items(name, qty, price) VALUES ('extra-$i', $i, 1.5);"; done
steps+=("$step
SELECT count(*) FROM items;
ROLLBACK;
SELECT count(*) FROM items;")
steps+=("INSERT INTO items(name, qty) VALUES ('item-1', 0);
SELECT count(*) FROM items WHERE name = 'item-1';")
steps+=("SELECT category, count(*), sum(qty), round(avg(price), 4), min(price), max(price),
       printf('%.6f', total(qty * price)) FROM items GROUP BY category ORDER BY category;
SELECT id, name, sum(qty) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS running
  FROM items WHERE id % 97 = 0 ORDER BY id;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 12)
  SELECT group_concat(x * x, ',') FROM c;")
steps+=("UPDATE items SET price = round(price * 1.1, 2) WHERE category = 'b';
SELECT changes();
DELETE FROM items WHERE qty < 5;
SELECT changes(), count(*) FROM items;
CREATE INDEX items_by_category ON items(category, qty);
SELECT name, qty FROM items WHERE category = 'c' AND qty > 95 ORDER BY qty, name;")
steps+=("VACUUM;
PRAGMA integrity_check;
SELECT count(*), sum(qty), printf('%.2f', total(price)) FROM items;
SELECT hex(sha3_query('SELECT * FROM items ORDER BY id', 256));")

# drive TRANSCRIPT COMMAND...: COMMAND (sqlite3, natively or under the tool) reads from one pipe
# and writes (errors too) to another; each step is sent, followed by a marker query, and its
# output is read up to the marker's answer. Lines from moonshim itself go to TRANSCRIPT.moonshim.
# Returns COMMAND's status.
drive() {
    local transcript=$1 n line to from
    shift
    : >"$transcript"
    : >"$transcript.moonshim"
    rm -f "$work/to" "$work/from"
    mkfifo "$work/to" "$work/from"
    "$@" <"$work/to" >"$work/from" 2>&1 &
    coproc_pid=$!
    exec {to}>"$work/to" {from}<"$work/from"
    record() {
        case $1 in
        "moonshim: "*) echo "$1" >>"$transcript.moonshim" ;;
        *) echo "$1" >>"$transcript" ;;
        esac
    }
    for n in "${!steps[@]}"; do
        printf '%s\n.headers off\nSELECT %s;\n.headers on\n' "${steps[n]}" "'-- end of step $n'" >&$to ||
            fail "$*: cannot send step $n"
        while :; do
            IFS= read -r -t 60 line <&$from || fail "$*: no end of step $n (output so far: $(tail -3 "$transcript"))"
            [ "$line" = "-- end of step $n" ] && break
            record "$line"
        done
    done
    exec {to}>&-
    while IFS= read -r -t 60 line <&$from; do record "$line"; done
    exec {from}<&-
    wait "$coproc_pid"
    local status=$?
    coproc_pid=""
    return $status
}

mkdir "$work/native"
drive "$work/native.out" sqlite3 "$work/native/db"
native_status=$? # 1: the shell exits 1 after an error in a script (the constraint error)
[ $native_status -eq 1 ] || fail "native sqlite3 exited $native_status, not 1"
grep -q "UNIQUE constraint failed: items.name" "$work/native.out" || fail "native: no constraint error"
grep -qx "ok" "$work/native.out" || fail "native: integrity_check"
[ "$(grep -c . "$work/native.out")" -ge 45 ] || fail "native transcript too short"
sqlite3 "$work/native/db" .dump >"$work/native.dump"

for seed in "${seeds[@]}"; do
    dir="$work/seed$seed"
    mkdir "$dir"
    drive "$dir.out" "$tool" exec --seed "$seed" --faults "storage.paths=$dir" -- sqlite3 "$dir/db"
    status=$?
    [ $status -eq 1 ] || fail "seed $seed: the tool exited $status, not 1 ($(cat "$dir.out.moonshim"))"
    grep -q "^moonshim: seed $seed: exit 1, " "$dir.out.moonshim" || fail "seed $seed: no result line with exit 1: $(cat "$dir.out.moonshim")"
    diff "$work/native.out" "$dir.out" >"$dir.diff" ||
        fail "seed $seed: the transcript differs from the native one: $(head -8 "$dir.diff")"
    sqlite3 "$dir/db" .dump | cmp -s - "$work/native.dump" || fail "seed $seed: the database's .dump differs from the native one"
    echo "seed $seed: $(wc -l <"$dir.out") lines identical to native; $(grep "^moonshim: seed" "$dir.out.moonshim")"
done

# The same seed, the same run: the first seed again gives the same events and hash.
seed=${seeds[0]}
rm -rf "$work/again"
mkdir "$work/again"
drive "$work/again.out" "$tool" exec --seed "$seed" --faults "storage.paths=$work/again" -- sqlite3 "$work/again/db"
first=$(grep "^moonshim: seed" "$work/seed$seed.out.moonshim" | sed 's/.*: exit/exit/')
again=$(grep "^moonshim: seed" "$work/again.out.moonshim" | sed 's/.*: exit/exit/')
[ -n "$first" ] && [ "$first" = "$again" ] || fail "seed $seed twice: '$first' then '$again'"

# What the simulation changes: the clock starts at the virtual epoch (2026-01-01T00:00:00Z), and
# SQLite's randomness (seeded from the shim's /dev/urandom) repeats for a seed.
probe() {
    timeout 30 "$tool" exec --seed "$1" --faults "storage.paths=$work" -- \
        sqlite3 :memory: "SELECT datetime('now'), hex(randomblob(16));" 2>/dev/null
}
a=$(probe 11) b=$(probe 11) c=$(probe 12)
[[ $a =~ ^2026-01-01\ 00:00:0[0-9]\|[0-9A-F]{32}$ ]] || fail "seed 11: datetime/randomblob: '$a'"
[ "$a" = "$b" ] || fail "seed 11 twice: '$a' then '$b'"
[ "${a#*|}" != "${c#*|}" ] || fail "seeds 11 and 12 drew the same randomblob: '$a'"
echo "seed 11: $a (repeats); seed 12: $c"
