#!/usr/bin/env bash
# memcached_faults.sh: Debian's memcached under moonshim WITH network faults (random closes as
# FIN or RST, short reads and writes, clogged connections, EINTR) keeps serving a real client
# (bash /dev/tcp, not simulated) that reconnects and retries when its connection breaks:
#   - memcached never crashes, and stops with its native status (0) on SIGTERM at the end;
#   - every reply the client receives whole is exactly the expected one (faults here never
#     corrupt data: a partial reply is a broken connection, any other difference fails);
#   - every value read back is the last one acknowledged; a counter incremented with retries
#     ends between the acknowledged increments and those plus the ambiguous ones;
#   - the client never waits more than 10 s for an answer;
#   - every connection the client saw break is explained by a fault in the trace that breaks
#     connections (fin, rst; eintr, on which memcached closes the connection), one each.
# usage: memcached_faults.sh TOOL [SEED...]   (default seeds 1 2 3; 77 when memcached is missing)
# Environment (optional): MEMCACHED_FAULTS replaces the default network faults.
set -u
tool=$1
shift
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
. "$(dirname "$0")/lib.sh"
need memcached ps setsid
faults=${MEMCACHED_FAULTS:-network.close=0.01,network.short=0.1,network.clog=0.02,network.eintr=0.01}
work=$(mktemp -d /tmp/moonshim-memcached-faults-XXXXXX)
cleanup() {
    exec 3>&- 2>/dev/null
    stop_group
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
trap '' PIPE # a write on a connection memcached closed fails with EPIPE instead of killing us
fail() {
    echo "FAIL: seed ${seed:-?}: $*"
    [ -f "$work/server.log" ] && tail -5 "$work/server.log"
    exit 1
}
user=()
[ "$(id -u)" = 0 ] && user=(-u root)

connected=0 breaks=0
connect() {
    exec 3>&- 2>/dev/null
    local i
    for i in $(seq 1 50); do
        exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null && { connected=1; return 0; }
        alive "$daemon_pid" || fail "memcached died"
        sleep 0.1
    done
    fail "cannot connect"
}

# request REQUEST REPLY: on the current connection; 0 when REPLY came back exactly, 1 when the
# connection broke first (counted in $breaks; the caller reconnects and decides what to retry).
# Fails on a wrong reply or on 10 s of silence.
request() {
    local want=$2 got="" status
    [ $connected = 1 ] || connect
    if ! printf '%s' "$1" >&3 2>/dev/null; then
        connected=0 breaks=$((breaks + 1))
        return 1
    fi
    IFS= read -r -N "${#want}" -t 10 got <&3 2>/dev/null
    status=$?
    [ "$got" = "$want" ] && return 0
    [ $status -gt 128 ] && fail "no answer within 10 s to $(printf '%q' "${1:0:60}") (got $(printf '%q' "${got:0:80}"))"
    [ "$got" = "${want:0:${#got}}" ] ||
        fail "wrong reply to $(printf '%q' "${1:0:60}"): expected $(printf '%q' "${want:0:80}"), got $(printf '%q' "${got:0:80}")"
    connected=0 breaks=$((breaks + 1)) # end of file or reset: what arrived was a prefix
    return 1
}

# until_ok REQUEST REPLY: the request until it is answered with REPLY (40 connections at most).
until_ok() {
    local try
    for try in $(seq 1 40); do
        request "$1" "$2" && return 0
        connect
    done
    fail "40 broken connections in a row for $(printf '%q' "${1:0:60}")"
}

# incr_once: one increment of the counter. Answered: it is acknowledged, and the value it
# returns must count every acknowledged increment and at most all the ambiguous ones. Broken
# connection: it may or may not have happened (ambiguous), and it is not retried.
incr_once() {
    local line="" status=1
    [ $connected = 1 ] || connect
    if printf 'incr counter 1\r\n' >&3 2>/dev/null; then
        IFS= read -r -t 10 line <&3 2>/dev/null
        status=$?
    fi
    if [ $status -eq 0 ]; then
        line=${line%$'\r'}
        [[ $line =~ ^[0-9]+$ ]] || fail "incr answered $(printf '%q' "$line")"
        acked_incr=$((acked_incr + 1))
        [ "$line" -ge "$acked_incr" ] && [ "$line" -le $((acked_incr + ambiguous_incr)) ] ||
            fail "incr answered $line after $acked_incr acknowledged and $ambiguous_incr ambiguous increments"
        return 0
    fi
    [ $status -gt 128 ] && fail "no answer within 10 s to incr"
    [[ $line =~ ^[0-9]*$ ]] || fail "incr: partial answer $(printf '%q' "$line")"
    connected=0 breaks=$((breaks + 1)) ambiguous_incr=$((ambiguous_incr + 1))
}

pattern=""
for i in $(seq 0 999); do pattern+="$i,abcdefghijklmnopqrstuvwxyz;"; done
any_fault=0
for seed in "${seeds[@]}"; do
    rm -rf "${work:?}"/*
    port=$(pick_port 18000)
    start_daemon "$work/server.log" "$tool" exec --seed "$seed" --trace "$work/trace" \
        --faults "time.external_wall=on,storage.paths=$work,$faults" \
        -- memcached -l 127.0.0.1 -p "$port" -U 0 -t 2 -v "${user[@]}"
    wait_port "$port" || fail "memcached did not start under the shim"
    connected=0 breaks=0
    declare -A value=()
    acked_incr=0 ambiguous_incr=0
    until_ok $'set counter 0 0 1\r\n0\r\n' $'STORED\r\n'
    for i in $(seq 1 200); do
        key="key:$((i % 40))"
        len=$((i % 10 == 0 ? 20000 : i * 13 % 500 + 1)) # every tenth value 20 KB: short transfers bite
        v=${pattern:i:len}
        until_ok "set $key 0 0 $len"$'\r\n'"$v"$'\r\n' $'STORED\r\n'
        value[$key]=$v
        [ $((i % 3)) = 0 ] && incr_once
        if [ $((i % 5)) = 0 ]; then
            k1="key:$(((i + 1) % 40))" k2="key:$((i % 40))" k3="key:$(((i + 7) % 40))"
            reply=""
            for k in "$k1" "$k2" "$k3"; do
                [ -n "${value[$k]+set}" ] && reply+="VALUE $k 0 ${#value[$k]}"$'\r\n'"${value[$k]}"$'\r\n'
            done
            until_ok "get $k1 $k2 $k3"$'\r\n' "${reply}END"$'\r\n'
        fi
    done
    # Read everything back; then the counter.
    for k in "${!value[@]}"; do
        until_ok "get $k"$'\r\n' "VALUE $k 0 ${#value[$k]}"$'\r\n'"${value[$k]}"$'\r\n'"END"$'\r\n'
    done
    counter=""
    for _ in $(seq 1 40); do
        [ $connected = 1 ] || connect
        l1="" l2="" l3=""
        printf 'get counter\r\n' >&3 2>/dev/null && IFS= read -r -t 10 l1 <&3 2>/dev/null &&
            IFS= read -r -t 10 l2 <&3 2>/dev/null && IFS= read -r -t 10 l3 <&3 2>/dev/null
        status=$?
        if [ $status -eq 0 ]; then
            [[ $l1 =~ ^VALUE\ counter\ 0\ [0-9]+$'\r'$ ]] && [[ $l2 =~ ^[0-9]+$'\r'$ ]] && [ "$l3" = $'END\r' ] ||
                fail "get counter answered $(printf '%q' "$l1 $l2 $l3")"
            counter=${l2%$'\r'}
            break
        fi
        [ $status -gt 128 ] && fail "no answer within 10 s to get counter"
        connected=0 breaks=$((breaks + 1))
    done
    [ -n "$counter" ] || fail "could not read the counter"
    [ "$counter" -ge "$acked_incr" ] && [ "$counter" -le $((acked_incr + ambiguous_incr)) ] ||
        fail "counter $counter: $acked_incr acknowledged increments, $ambiguous_incr ambiguous"
    exec 3>&-
    alive "$daemon_pid" || fail "memcached is gone"

    kill -TERM "$daemon_pid"
    wait_exit "$daemon_pid" 100 || fail "memcached did not stop on SIGTERM"
    wait "$daemon_pid"
    status=$?
    daemon_pid=""
    [ $status -eq 0 ] || fail "the tool exited $status on SIGTERM (memcached natively: 0)"
    grep -q "^moonshim: seed $seed: exit 0, " "$work/server.log" || fail "no result line with exit 0"
    # Every broken connection explained by a fault that breaks connections, one each.
    breakers=$(cat "$work"/trace* | grep -c '"fault":"\(fin\|rst\|eintr\)"')
    [ "$breaks" -le "$breakers" ] ||
        fail "the client saw $breaks broken connections, the trace explains $breakers (fin, rst, eintr)"
    cat "$work"/trace* | grep -q '"fault":' && any_fault=1
    faults_seen=$(cat "$work"/trace* | grep -o '"fault":"[a-z_]*"' | sort | uniq -c |
                  awk '{gsub(/"fault":|"/, "", $2); printf "%s%s %s", sep, $2, $1; sep=", "}')
    echo "seed $seed: faults: ${faults_seen:-none}; client: $breaks broken connections," \
         "counter $counter ($acked_incr acknowledged, $ambiguous_incr ambiguous);" \
         "$(grep "^moonshim: seed" "$work/server.log")"
    unset value
done
seed=""
[ $any_fault -eq 1 ] || fail "no trace showed a fault: the faults did not reach memcached"
