#!/usr/bin/env bash
# native.sh: wal_kv without the shim: hand-made damage (dd, truncate, edited ACKFILE) must give
# the documented check verdicts, and each VARIANT's bug must be visible where it can be natively.
#
# usage: tests/storage/native.sh WAL_KV    (e.g. build/tests/storage/wal_kv)
# Exits 0 when every expectation held, 1 otherwise, 77 (skip) when WAL_KV is missing. The strace
# parts (which fsyncs happen) are skipped with a note when strace is not installed.
set -u
wal_kv=${1:?usage: native.sh WAL_KV}
[ -x "$wal_kv" ] || { echo "native: $wal_kv is not an executable" >&2; exit 77; }
work=$(mktemp -d /tmp/wal_kv-native-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
slot=512

# expect STATUS DESCRIPTION COMMAND...: run the command, compare its exit status.
expect() {
    local want=$1 what=$2 got
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" -eq "$want" ]; then
        echo "ok   $what -> $got: $(head -n 1 "$work/out")"
    else
        echo "FAIL $what -> $got, expected $want"
        sed 's/^/     /' "$work/out" "$work/err"
        failures=$((failures + 1))
    fi
}

# fresh NAME: a new data directory and ACKFILE, $work/NAME/{d,ack}, holding a copy of "base".
fresh() {
    rm -rf "${work:?}/$1"
    mkdir -p "$work/$1"
    cp -r "$work/base/d" "$work/$1/d"
    cp "$work/base/ack" "$work/$1/ack"
}

# poke FILE OFFSET: flip one byte (xor 0xff) in place.
poke() {
    local byte
    byte=$(od -A n -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
    printf '%b' "\\x$(printf %02x $((byte ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

echo "== the correct program"
mkdir -p "$work/base/d"
base="$work/base"
expect 0 "write 50 (incarnation 0)" "$wal_kv" "$base/d" write 50 "$base/ack"
expect 0 "check" "$wal_kv" "$base/d" check "$base/ack"
expect 0 "write 50 (incarnation 1)" env MOONSHIM_INCARNATION=1 "$wal_kv" "$base/d" write 50 "$base/ack"
expect 0 "check 100 keys" "$wal_kv" "$base/d" check "$base/ack"
mkdir -p "$work/again/d"
"$wal_kv" "$work/again/d" write 50 "$work/again/ack" >/dev/null
env MOONSHIM_INCARNATION=1 "$wal_kv" "$work/again/d" write 50 "$work/again/ack" >/dev/null
# shellcheck disable=SC2016 # the inner script expands its own arguments
expect 0 "same inputs give the same log and ACKFILE, byte for byte" \
    bash -c 'cmp "$1/d/wal.log" "$2/d/wal.log" && cmp "$1/ack" "$2/ack"' _ "$base" "$work/again"
# shellcheck disable=SC2016
expect 0 "... and incarnation 1 served a read of each of the first 50 keys" \
    bash -c '"$1" "$2/d" check "$2/ack" | grep -q "50 reads served, 0 wrong"' _ "$wal_kv" "$base"
expect 64 "usage error" "$wal_kv" "$base/d" write 0 "$base/ack"
expect 64 "unknown variant" "$wal_kv" "$base/d" check "$base/ack" no-such-variant

echo "== damage in the middle of the log: detected"
fresh mid && poke "$work/mid/d/wal.log" $((30 * slot + 40))
expect 2 "a flipped value byte in record 30" "$wal_kv" "$work/mid/d" check "$work/mid/ack"
cp "$work/mid/d/wal.log" "$work/mid/before"
expect 2 "write refuses to recover over it" "$wal_kv" "$work/mid/d" write 5 "$work/mid/ack"
expect 0 "... and leaves the log as it was" cmp "$work/mid/before" "$work/mid/d/wal.log"
fresh zero && dd if=/dev/zero of="$work/zero/d/wal.log" bs=$slot seek=40 count=1 conv=notrunc status=none
expect 2 "record 40 zeroed (a phantom write), records after it valid" \
    "$wal_kv" "$work/zero/d" check "$work/zero/ack"
fresh misdirected
dd if="$work/base/d/wal.log" of="$work/misdirected/d/wal.log" bs=$slot skip=70 seek=20 count=1 \
    conv=notrunc status=none
expect 2 "record 70 copied over record 20 (a misdirected write)" \
    "$wal_kv" "$work/misdirected/d" check "$work/misdirected/ack"
fresh header && poke "$work/header/d/wal.log" $((99 * slot + 9))
expect 2 "a flipped sequence byte in the last record (a full slot: damage, not a tear)" \
    "$wal_kv" "$work/header/d" check "$work/header/ack"

fresh beyond && truncate -s $((102 * slot)) "$work/beyond/d/wal.log"
dd if=/dev/zero of="$work/beyond/d/wal.log" bs=$slot seek=99 count=2 conv=notrunc status=none
dd if="$work/base/d/wal.log" of="$work/beyond/d/wal.log" bs=$slot skip=99 seek=101 count=1 \
    conv=notrunc status=none
expect 2 "last record written 2 slots past its place (a misdirected append past the end)" \
    "$wal_kv" "$work/beyond/d" check "$work/beyond/ack"

echo "== the end of the log"
fresh torn && truncate -s $((99 * slot + 100)) "$work/torn/d/wal.log"
expect 1 "last (acknowledged) record cut mid-record: lost after the last snapshot" \
    "$wal_kv" "$work/torn/d" check "$work/torn/ack"
sed -i '$d' "$work/torn/ack"
expect 0 "same cut, its acknowledgement removed: a torn unacknowledged tail" \
    "$wal_kv" "$work/torn/d" check "$work/torn/ack"
expect 0 "write recovers (truncates the torn tail) and goes on" \
    env MOONSHIM_INCARNATION=2 "$wal_kv" "$work/torn/d" write 10 "$work/torn/ack"
expect 0 "... check after it" "$wal_kv" "$work/torn/d" check "$work/torn/ack"
expect 0 "... the log is whole slots again" test $(($(stat -c %s "$work/torn/d/wal.log") % slot)) -eq 0
fresh snapshot && truncate -s $((90 * slot)) "$work/snapshot/d/wal.log"
expect 2 "log cut to 90 records under a snapshot of 96" \
    "$wal_kv" "$work/snapshot/d" check "$work/snapshot/ack"
fresh zeros && head -c $((2 * slot)) /dev/zero >>"$work/zeros/d/wal.log"
expect 0 "two zero slots appended (an append that never reached the disk)" \
    "$wal_kv" "$work/zeros/d" check "$work/zeros/ack"
expect 0 "write truncates them and goes on" \
    env MOONSHIM_INCARNATION=2 "$wal_kv" "$work/zeros/d" write 3 "$work/zeros/ack"
fresh garbage && head -c $slot /dev/urandom >>"$work/garbage/d/wal.log"
expect 0 "a full garbage slot at the end: reported, but no acknowledged key is lost" \
    "$wal_kv" "$work/garbage/d" check "$work/garbage/ack"
expect 2 "write refuses to truncate a full damaged slot" \
    env MOONSHIM_INCARNATION=2 "$wal_kv" "$work/garbage/d" write 3 "$work/garbage/ack"

echo "== the ACKFILE side"
fresh acks && sed -i '17d' "$work/acks/ack"
expect 0 "an acknowledgement line deleted (fewer promises)" "$wal_kv" "$work/acks/d" check "$work/acks/ack"
printf 'key-0-7 00000000' >>"$work/acks/ack"
expect 0 "a partial last line (cut before its newline) promises nothing" \
    "$wal_kv" "$work/acks/d" check "$work/acks/ack"
echo >>"$work/acks/ack"
expect 1 "... completed with a wrong digest: silently wrong" "$wal_kv" "$work/acks/d" check "$work/acks/ack"
fresh cut && printf 'key-0-7 1234' >>"$work/cut/ack"
expect 0 "a line cut by a crash; the next write ends it with a newline" \
    env MOONSHIM_INCARNATION=2 "$wal_kv" "$work/cut/d" write 3 "$work/cut/ack"
expect 0 "... check skips the cut line" "$wal_kv" "$work/cut/d" check "$work/cut/ack"
fresh ghost && echo "key-9-9 12345678" >>"$work/ghost/ack"
expect 1 "an acknowledged key that was never written" "$wal_kv" "$work/ghost/d" check "$work/ghost/ack"

echo "== variant no-checksum: trusts what it reads"
fresh nocrc && poke "$work/nocrc/d/wal.log" $((30 * slot + 40))
expect 2 "correct check of a flipped value byte" "$wal_kv" "$work/nocrc/d" check "$work/nocrc/ack"
expect 1 "no-checksum check of the same log: silently wrong" \
    "$wal_kv" "$work/nocrc/d" check "$work/nocrc/ack" no-checksum
fresh nolength && poke "$work/nolength/d/wal.log" $((60 * slot + 4))
expect 1 "no-checksum check, a corrupted length field: silently wrong" \
    "$wal_kv" "$work/nolength/d" check "$work/nolength/ack" no-checksum

echo "== a read fault, made natively: damage on disk while write recovers, then undone"
fresh readfault && poke "$work/readfault/d/wal.log" $((30 * slot + 40))
expect 2 "correct write refuses, serves nothing" \
    env MOONSHIM_INCARNATION=2 "$wal_kv" "$work/readfault/d" write 3 "$work/readfault/ack"
poke "$work/readfault/d/wal.log" $((30 * slot + 40))
expect 0 "... damage undone: correct check passes" \
    "$wal_kv" "$work/readfault/d" check "$work/readfault/ack"
poke "$work/readfault/d/wal.log" $((30 * slot + 40))
expect 0 "no-checksum write serves the wrong value" env MOONSHIM_INCARNATION=2 \
    "$wal_kv" "$work/readfault/d" write 3 "$work/readfault/ack" no-checksum
poke "$work/readfault/d/wal.log" $((30 * slot + 40))
expect 1 "... damage undone, but a wrong value was served: silently wrong" \
    "$wal_kv" "$work/readfault/d" check "$work/readfault/ack"
fresh readkey && poke "$work/readkey/d/wal.log" $((30 * slot + 29))
expect 0 "no-checksum write serves a garbage key" env MOONSHIM_INCARNATION=2 \
    "$wal_kv" "$work/readkey/d" write 3 "$work/readkey/ack" no-checksum
poke "$work/readkey/d/wal.log" $((30 * slot + 29))
expect 1 "... it is seen as a wrong value served, not skipped" \
    "$wal_kv" "$work/readkey/d" check "$work/readkey/ack"

echo "== variant rename-no-dirsync: needs a snapshot it never made durable"
fresh rename && rm "$work/rename/d/snapshot"
expect 0 "snapshot lost (as an unsynced rename is): correct check" \
    "$wal_kv" "$work/rename/d" check "$work/rename/ack"
expect 1 "rename-no-dirsync check: acknowledged state missing" \
    "$wal_kv" "$work/rename/d" check "$work/rename/ack" rename-no-dirsync
expect 1 "rename-no-dirsync write: refuses, state missing" \
    env MOONSHIM_INCARNATION=2 "$wal_kv" "$work/rename/d" write 3 "$work/rename/ack" rename-no-dirsync

if command -v strace >/dev/null; then
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 # LSan cannot run traced
    echo "== which fsyncs each variant makes (strace -y)"
    # fsyncs VARIANT: write 16 records in a fresh DIR; print "LOG DIR" fsync counts.
    fsyncs() {
        rm -rf "$work/trace" && mkdir -p "$work/trace/d"
        strace -f -y -e trace=fsync -o "$work/trace/log" \
            "$wal_kv" "$work/trace/d" write 16 "$work/trace/ack" "$1" >/dev/null 2>&1
        echo "$(grep -c 'wal.log>' "$work/trace/log") $(grep -c '/d>' "$work/trace/log")"
    }
    expect 0 "correct: 16 log fsyncs; DIR at creation + 2 snapshots" test "$(fsyncs correct)" = "16 3"
    expect 0 "no-fsync: no log fsync at all" test "$(fsyncs no-fsync)" = "0 3"
    expect 0 "rename-no-dirsync: DIR only at creation" test "$(fsyncs rename-no-dirsync)" = "16 1"
    expect 0 "no-checksum: writes like the correct program" test "$(fsyncs no-checksum)" = "16 3"

    echo "== error paths, injected by strace (deterministic; no power loss)"
    # inject NAME SPEC: write 16 in a fresh $work/NAME under strace -e inject=SPEC; sets status.
    inject() {
        rm -rf "${work:?}/$1" && mkdir -p "$work/$1/d" && : >"$work/$1/ack"
        (strace -f -o /dev/null -e trace="${2%%:*}" -e inject="$2" \
            "$wal_kv" "$work/$1/d" write 16 "$work/$1/ack"; exit $?) >/dev/null 2>"$work/$1/err"
        status=$? # the subshell reports a SIGKILL into err, not onto the terminal
    }
    acks() { grep -c '^key-' "$work/$1/ack"; }
    # fsyncs: 1 DIR at creation, 2 ACKFILE after serving reads, then log and ACKFILE per record.
    inject syncfail fsync:error=EIO:when=9
    expect 0 "fsync of record 3 fails: exit 75, records 0-2 acknowledged, 3 not" \
        test "$status $(acks syncfail)" = "75 3"
    expect 0 "... check" "$wal_kv" "$work/syncfail/d" check "$work/syncfail/ack"
    inject writefail pwrite64:error=EIO:when=2
    expect 0 "write of record 1 fails: exit 75, one acknowledgement" \
        test "$status $(acks writefail)" = "75 1"
    expect 0 "... check" "$wal_kv" "$work/writefail/d" check "$work/writefail/ack"
    inject killed pwrite64:signal=SIGKILL:when=5
    expect 0 "SIGKILL at the write of record 4: four acknowledgements" \
        test "$status $(acks killed)" = "137 4"
    expect 0 "... restarted (incarnation 1)" \
        env MOONSHIM_INCARNATION=1 "$wal_kv" "$work/killed/d" write 16 "$work/killed/ack"
    expect 0 "... check" "$wal_kv" "$work/killed/d" check "$work/killed/ack"
else
    echo "== strace missing: skipped the fsync counts of the variants"
fi

echo
if [ "$failures" -ne 0 ]; then
    echo "native: $failures expectation(s) failed"
    exit 1
fi
echo "native: every expectation held"
