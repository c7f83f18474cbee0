#!/usr/bin/env bash
# redis_basic.sh: Debian's redis-server under moonshim serves a real client (redis-cli and
# redis-benchmark, not simulated) correctly, then shuts down cleanly with exit 0.
# usage: redis_basic.sh TOOL        exits 77 when redis-server or redis-cli is missing.
set -u
tool=$1
for program in redis-server redis-cli redis-benchmark; do
    command -v "$program" >/dev/null || { echo "$program not installed: skipping"; exit 77; }
done
work=$(mktemp -d /tmp/moonshim-redis-XXXXXX)
port=$((20000 + $$ % 20000))
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
# time.external_wall: the server waits for its real clients in wall time (see moonshim.conf(5)).
"$tool" exec --seed 3 --faults "storage.paths=$work,storage.fast_local=on,time.external_wall=on" \
    -- redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
    >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 50); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
done
[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || { echo "no PONG"; cat "$work/server.log"; exit 1; }
fail() { echo "FAIL: $*"; tail -5 "$work/server.log"; exit 1; }
[ "$(redis-cli -p "$port" set greeting hello)" = OK ] || fail "SET"
[ "$(redis-cli -p "$port" get greeting)" = hello ] || fail "GET"
[ "$(redis-cli -p "$port" incrby counter 41)" = 41 ] || fail "INCRBY"
[ "$(redis-cli -p "$port" incr counter)" = 42 ] || fail "INCR"
redis-benchmark -p "$port" -q -n 5000 -t set,get,lpush,lpop >"$work/bench.out" 2>&1 || fail "benchmark"
grep -c "requests per second" "$work/bench.out" | grep -q 4 || fail "benchmark output: $(cat "$work/bench.out")"
[ "$(redis-cli -p "$port" dbsize)" -ge 2 ] || fail "DBSIZE"
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
wait "$server"
status=$?
server=""
[ $status -eq 0 ] || fail "the tool exited $status"
grep -q "Redis is now ready to exit" "$work/server.log" || fail "no clean shutdown"
tail -1 "$work/server.log"
grep "requests per second" "$work/bench.out" | tr '\r' '\n' | grep "requests per second" | sed 's/^ *//'
