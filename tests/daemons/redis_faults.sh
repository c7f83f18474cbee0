#!/usr/bin/env bash
# redis_faults.sh: Debian's redis-server under moonshim WITH network faults (random closes,
# short reads and writes, clogged connections, EINTR) keeps serving real clients (redis-cli,
# redis-benchmark, not simulated): the clients may see resets and slowness, but every value they
# read back is the one they wrote, the server answers PING at the end, and it shuts down cleanly
# on `shutdown nosave` (the tool exits 0: the server never crashed).
# usage: redis_faults.sh TOOL [SEED...]   (default seeds 1 2; exits 77 when redis is missing)
# Environment (optional): REDIS_FAULTS replaces the default network faults.
set -u
tool=$1
shift
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2)
for program in redis-server redis-cli redis-benchmark timeout; do
    command -v "$program" >/dev/null || { echo "$program not installed: skipping"; exit 77; }
done
faults=${REDIS_FAULTS:-network.close=0.01,network.short=0.2,network.clog=0.05,network.eintr=0.05}
work=$(mktemp -d /tmp/moonshim-redis-faults-XXXXXX)
# The server runs under timeout(1): its own process group, which timeout signals as a whole when
# it is itself signalled, so killing that one process (by its id) stops the tool and redis-server.
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill -TERM "$server" 2>/dev/null
        wait "$server" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: seed ${seed:-?}: $*"
    [ -f "$work/server.log" ] && tail -8 "$work/server.log"
    exit 1
}

# cli ARGS...: one redis-cli command, bounded in time; its output (errors included) on stdout.
cli() { timeout -k 2 10 redis-cli -p "$port" "$@" 2>&1; }

# retry WANT ARGS...: the command until it answers WANT (at most 40 tries); 0 when it did.
retry() {
    local want=$1 answer
    shift
    for _ in $(seq 1 40); do
        answer=$(cli "$@")
        [ "$answer" = "$want" ] && return 0
        sleep 0.05
    done
    echo "last answer to '$*': $answer"
    return 1
}

server_alive() { [ -n "$server" ] && kill -0 "$server" 2>/dev/null; }

start_server() {
    local attempt
    for attempt in 1 2 3 4 5; do
        port=$((20000 + (RANDOM * 32768 + RANDOM + attempt) % 30000))
        timeout -k 5 300 "$tool" exec --seed "$seed" --trace "$work/server.trace" \
            --faults "storage.paths=$work,storage.fast_local=on,time.external_wall=on,$faults" \
            -- redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save "" \
            --appendonly no >"$work/server.log" 2>&1 </dev/null &
        server=$!
        for _ in $(seq 1 100); do
            [ "$(cli ping)" = PONG ] && return 0
            server_alive || break
            sleep 0.1
        done
        grep -q "Address already in use" "$work/server.log" || break
        wait "$server"
        server=""
    done
    fail "no PONG from the server"
}

any_fault=0
for seed in "${seeds[@]}"; do
    rm -rf "${work:?}"/*
    start_server

    # Writes that must survive: each retried until the server acknowledges it.
    for i in $(seq 1 40); do
        retry OK set "key:$i" "value-$i-$seed" >"$work/retry.out" || fail "SET key:$i: $(cat "$work/retry.out")"
    done
    # Load: benchmark rounds. A reset connection ends a round early (redis-benchmark exits on its
    # first error); a round that never ends is cut off. Neither is a failure; a dead server is.
    rounds_ok=0 rounds_reset=0 rounds_cut=0
    for round in 1 2 3 4 5 6; do
        pipeline=1
        [ $((round % 2)) -eq 0 ] && pipeline=16 # big reads and writes: short transfers bite
        timeout -k 2 30 redis-benchmark -p "$port" -q -n 1000 -c 4 -P "$pipeline" -r 1000 \
            -t set,get,lpush,lpop,incr >"$work/bench$round.out" 2>&1 </dev/null
        case $? in
        0) rounds_ok=$((rounds_ok + 1)) ;;
        124 | 137) rounds_cut=$((rounds_cut + 1)) ;;
        *) rounds_reset=$((rounds_reset + 1)) ;;
        esac
        server_alive || fail "the server died during benchmark round $round"
    done
    # Reads: a value read back is the value written, or the read failed visibly (never another).
    for i in $(seq 1 40); do
        answer=""
        for _ in $(seq 1 40); do
            answer=$(cli get "key:$i")
            [ "$answer" = "value-$i-$seed" ] && break
            case "$answer" in
            "Error: "* | "Could not connect"* | "") sleep 0.05 ;; # a reset or a refused connection
            *) fail "GET key:$i answered '$answer', not 'value-$i-$seed'" ;;
            esac
        done
        [ "$answer" = "value-$i-$seed" ] || fail "GET key:$i never answered (last: $answer)"
    done
    retry PONG ping >"$work/retry.out" || fail "no PONG after the load: $(cat "$work/retry.out")"
    server_alive || fail "the server is gone"

    # Shut down: the command itself may be lost to a fault, so send it until the server exits.
    for _ in $(seq 1 40); do
        cli shutdown nosave >/dev/null
        for _ in $(seq 1 10); do
            server_alive || break 2
            sleep 0.05
        done
    done
    server_alive && fail "the server did not shut down"
    wait "$server"
    status=$?
    server=""
    [ $status -eq 0 ] || fail "the tool exited $status"
    grep -q "Redis is now ready to exit" "$work/server.log" || fail "no clean shutdown"
    grep -q '"fault":' "$work/server.trace" && any_fault=1
    faults_seen=$(grep -o '"fault":"[a-z_]*"' "$work/server.trace" | sort | uniq -c |
                  awk '{gsub(/"fault":|"/, "", $2); printf "%s%s %s", sep, $2, $1; sep=", "}')
    echo "seed $seed: $(grep -c '"kind":"network"' "$work/server.trace") network events," \
         "faults: ${faults_seen:-none}; benchmark rounds: $rounds_ok complete," \
         "$rounds_reset ended by an error, $rounds_cut cut off;" \
         "$(tail -n 1 "$work/server.log" | sed 's/^[0-9]*:[A-Z] //')"
done
seed=""
[ $any_fault -eq 1 ] || fail "no trace showed a fault: the faults did not reach the server"
