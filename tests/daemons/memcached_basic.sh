#!/usr/bin/env bash
# memcached_basic.sh: Debian's memcached (2 worker threads) under moonshim serves a real client
# (bash's /dev/tcp speaking the text protocol, not simulated) and every reply is exactly the one
# expected: set/add/replace/append/prepend/get/gets/cas/incr/decr/delete/touch, multi-get, an
# expiring item (memcached's once-a-second clock timer in virtual time), a 200 KB value, 300 keys
# written then read back, stats. Then SIGTERM to the tool (which forwards it) stops memcached the
# way it stops natively: the status is the one a native memcached gives on SIGTERM, measured first.
# usage: memcached_basic.sh TOOL [SEED]    (default seed 5; exits 77 when memcached is missing)
set -u
tool=$1
seed=${2:-5}
. "$(dirname "$0")/lib.sh"
need memcached ps setsid
work=$(mktemp -d /tmp/moonshim-memcached-XXXXXX)
cleanup() {
    exec 3>&- 2>/dev/null
    stop_group
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "FAIL: seed $seed: $*"
    [ -f "$work/server.log" ] && tail -8 "$work/server.log"
    exit 1
}
user=()
[ "$(id -u)" = 0 ] && user=(-u root) # memcached refuses to run as root without -u

# What a native memcached does on SIGTERM (1.6.18: "Exiting normally", status 0).
port=$(pick_port 21000)
start_daemon "$work/native.log" memcached -l 127.0.0.1 -p "$port" -U 0 -t 2 "${user[@]}"
wait_port "$port" || fail "native memcached did not start: $(cat "$work/native.log")"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
native_status=$?
daemon_pid=""
case $native_status in
0) want_status=0 ;; # the tool exits 0 when the program did
*) want_status=1 ;; # and 1 when it exited non-zero or was killed by a signal (moonshim(1))
esac

port=$(pick_port 21000)
start_daemon "$work/server.log" "$tool" exec --seed "$seed" \
    --faults "time.external_wall=on,storage.paths=$work" \
    -- memcached -l 127.0.0.1 -p "$port" -U 0 -t 2 -v "${user[@]}"
wait_port "$port" || fail "memcached did not start under the shim"
[ "$(ps -o pgid= -p "$daemon_pid" | tr -d ' ')" = "$daemon_pid" ] || fail "the tool is not its own process group"
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"

# xchg NAME REQUEST REPLY: send REQUEST, read exactly as many bytes as REPLY has (10 s at most),
# and require exactly REPLY. Both are printf %b strings: write \r\n for CR LF.
xchg() {
    local name=$1 request want got=""
    printf -v request '%b' "$2"
    printf -v want '%b' "$3"
    printf '%s' "$request" >&3 || fail "$name: cannot send"
    IFS= read -r -N "${#want}" -t 10 got <&3
    [ "$got" = "$want" ] || fail "$name: expected $(printf '%q' "$want"), got $(printf '%q' "$got")"
}

xchg set 'set greeting 7 0 5\r\nhello\r\n' 'STORED\r\n'
xchg get 'get greeting\r\n' 'VALUE greeting 7 5\r\nhello\r\nEND\r\n'
xchg get-miss 'get nothing\r\n' 'END\r\n'
xchg add-existing 'add greeting 0 0 1\r\nx\r\n' 'NOT_STORED\r\n'
xchg add-new 'add other 1 0 3\r\nabc\r\n' 'STORED\r\n'
xchg replace-missing 'replace ghost 0 0 1\r\nx\r\n' 'NOT_STORED\r\n'
xchg replace 'replace other 2 0 4\r\nabcd\r\n' 'STORED\r\n'
xchg append 'append greeting 0 0 6\r\n world\r\n' 'STORED\r\n'
xchg prepend 'prepend greeting 0 0 3\r\n>> \r\n' 'STORED\r\n'
xchg multi-get 'get greeting ghost other\r\n' \
    'VALUE greeting 7 14\r\n>> hello world\r\nVALUE other 2 4\r\nabcd\r\nEND\r\n'
xchg set-counter 'set counter 0 0 2\r\n10\r\n' 'STORED\r\n'
xchg incr 'incr counter 32\r\n' '42\r\n'
xchg decr 'decr counter 2\r\n' '40\r\n'
xchg decr-floor 'decr counter 1000\r\n' '0\r\n'
xchg incr-wide 'incr counter 18446744073709551615\r\n' '18446744073709551615\r\n'
xchg incr-wrap 'incr counter 2\r\n' '1\r\n'
xchg incr-text 'incr greeting 1\r\n' 'CLIENT_ERROR cannot increment or decrement non-numeric value\r\n'
xchg incr-missing 'incr ghost 1\r\n' 'NOT_FOUND\r\n'
xchg delete 'delete other\r\n' 'DELETED\r\n'
xchg delete-again 'delete other\r\n' 'NOT_FOUND\r\n'
xchg get-deleted 'get other\r\n' 'END\r\n'
xchg bad-command 'frobnicate\r\n' 'ERROR\r\n'
# gets/cas: the unique from gets is accepted once, then the item has a new one.
printf 'gets greeting\r\n' >&3
IFS= read -r -t 10 line <&3
[[ $line =~ ^VALUE\ greeting\ 7\ 14\ ([0-9]+)$'\r'$ ]] || fail "gets: $(printf '%q' "$line")"
unique=${BASH_REMATCH[1]}
xchg gets-rest '' '>> hello world\r\nEND\r\n'
xchg cas "cas greeting 0 0 2 $unique\r\nhi\r\n" 'STORED\r\n'
xchg cas-stale "cas greeting 0 0 2 $unique\r\nho\r\n" 'EXISTS\r\n'
xchg cas-missing "cas ghost 0 0 2 $unique\r\nho\r\n" 'NOT_FOUND\r\n'
xchg get-cas 'get greeting\r\n' 'VALUE greeting 0 2\r\nhi\r\nEND\r\n'
xchg touch 'touch greeting 0\r\n' 'TOUCHED\r\n'
xchg touch-missing 'touch ghost 0\r\n' 'NOT_FOUND\r\n'

# An item that expires after 1 s: memcached's clock advances once a second on a libevent timer,
# which waits in virtual time that follows the wall clock (time.external_wall=on).
xchg set-expiring 'set brief 0 1 4\r\ngone\r\n' 'STORED\r\n'
xchg get-expiring 'get brief\r\n' 'VALUE brief 0 4\r\ngone\r\nEND\r\n'
sleep 2.5
xchg get-expired 'get brief\r\n' 'END\r\n'

# A 200 KB value (many reads and writes on both sides).
pattern=""
for i in $(seq 0 99); do pattern+="$i:0123456789abcdefghijklmnopqrstuvwxyz;"; done
big=""
while [ ${#big} -lt 200000 ]; do big+=$pattern; done
big=${big:0:200000}
xchg set-big "set big 3 0 200000\r\n$big\r\n" 'STORED\r\n'
xchg get-big 'get big\r\n' "VALUE big 3 200000\r\n$big\r\nEND\r\n"

# 300 keys of 1 to 2999 bytes, all sent at once, then read back 30 at a time.
requests="" replies=""
for i in $(seq 1 300); do
    len=$((i * 97 % 2999 + 1))
    value=${pattern:i % 50:len}
    requests+="set key:$i $i 0 $len\r\n$value\r\n"
    replies+='STORED\r\n'
done
xchg set-300 "$requests" "$replies"
for first in $(seq 1 30 300); do
    request="get" reply=""
    for i in $(seq "$first" $((first + 29))); do
        len=$((i * 97 % 2999 + 1))
        request+=" key:$i"
        reply+="VALUE key:$i $i $len\r\n${pattern:i % 50:len}\r\n"
    done
    xchg "get-300 from $first" "$request\r\n" "${reply}END\r\n"
done

# stats: the items and threads memcached reports.
printf 'stats\r\n' >&3
stats=""
while IFS= read -r -t 10 line <&3; do
    line=${line%$'\r'}
    [ "$line" = END ] && break
    stats+="$line"$'\n'
done
[ "$line" = END ] || fail "stats did not end with END"
grep -qx 'STAT curr_items 303' <<<"$stats" || fail "stats: $(grep curr_items <<<"$stats")" # greeting counter big + 300
grep -qx 'STAT threads 2' <<<"$stats" || fail "stats: $(grep threads <<<"$stats")"
grep -qx 'STAT version 1\.[0-9.]*' <<<"$stats" || fail "stats: no version"
xchg quit 'quit\r\n' ''
exec 3>&-

# SIGTERM to the tool, which forwards it to memcached.
alive "$daemon_pid" || fail "memcached died"
kill -TERM "$daemon_pid"
wait_exit "$daemon_pid" 100 || { proc_state "$daemon_pid"; fail "memcached did not stop on SIGTERM"; }
wait "$daemon_pid"
status=$?
leftover=$(group_pids)
daemon_pid=""
[ -z "$leftover" ] || fail "processes left behind: $leftover"
[ "$status" -eq "$want_status" ] ||
    fail "the tool exited $status on SIGTERM; native memcached exits $native_status (tool: $want_status)"
grep -q "^moonshim: seed $seed: exit $native_status, " "$work/server.log" || fail "no result line with exit $native_status"
grep -q "Exiting normally" "$work/native.log" && { grep -q "Exiting normally" "$work/server.log" || fail "no 'Exiting normally'"; }
echo "memcached $(memcached -V | cut -d' ' -f2): all replies exact; SIGTERM: native status $native_status, tool $status"
grep "^moonshim: seed" "$work/server.log"
