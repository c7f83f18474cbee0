#!/usr/bin/env bash
# redis_fork.sh: Debian's redis-server under moonshim with persistence on forks inside the
# simulation: BGSAVE (an RDB snapshot child) and BGREWRITEAOF (an AOF rewrite child) both finish
# with status ok, their children are reaped, dump.rdb passes redis-check-rdb with every key and
# the AOF passes redis-check-aof; after SHUTDOWN NOSAVE a fresh redis-server under the shim on the
# same directory loads the AOF (base + increments written before, during and after the rewrite)
# and has exactly the same data: same DEBUG DIGEST, same DBSIZE, every key checked.
# usage: redis_fork.sh TOOL [SEED]    (default seed 1; exits 77 when redis is missing)
set -u
tool=$1
seed=${2:-1}
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli ps setsid timeout
work=$(mktemp -d /tmp/moonshim-redis-fork-XXXXXX)
cleanup() {
    stop_group
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "FAIL: seed $seed: $*"
    [ -f "$work/server.log" ] && { echo "--- server log:"; tail -12 "$work/server.log"; }
    if [ -n "$daemon_pid" ]; then
        for pid in $(group_pids); do proc_state "$pid"; done
    fi
    exit 1
}
port=$(pick_port 27000)
cli() { timeout -k 2 20 redis-cli -p "$port" "$@" 2>&1; }

# start LOG: redis-server under the shim on $work, persistence by AOF only (appendfsync everysec,
# the default), DEBUG allowed for DEBUG DIGEST.
start() {
    start_daemon "$1" "$tool" exec --seed "$seed" \
        --faults "time.external_wall=on,storage.paths=$work" \
        -- redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --appendonly yes --save "" \
        --enable-debug-command yes
    wait_port "$port" || fail "redis-server did not start under the shim"
    for _ in $(seq 1 100); do
        [ "$(cli ping)" = PONG ] && break
        sleep 0.1
    done
    [ "$(cli ping)" = PONG ] || fail "no PONG (last: $(cli ping))"
    redis=$(ps -o pid= --ppid "$daemon_pid" | tr -d ' ')
    [ -n "$redis" ] || fail "no redis-server under the tool"
}

# wait_info FIELD VALUE [FIELD VALUE...]: until INFO persistence shows every FIELD:VALUE (30 s).
wait_info() {
    local info i j ok args=("$@")
    for i in $(seq 1 300); do
        info=$(cli info persistence | tr -d '\r')
        ok=1
        for ((j = 0; j < ${#args[@]}; j += 2)); do
            grep -qx "${args[j]}:${args[j + 1]}" <<<"$info" || ok=0
        done
        [ $ok = 1 ] && return 0
        alive "$daemon_pid" || fail "the server died waiting for $*"
        sleep 0.1
    done
    echo "$info" | grep -E 'progress|status|fork' >&2
    fail "INFO persistence never showed $*"
}

# no_children: redis reaped its fork children (no process, no zombie, under redis-server).
no_children() {
    local i
    for i in $(seq 1 50); do
        [ -z "$(ps -o pid= --ppid "$redis")" ] && return 0
        sleep 0.1
    done
    fail "children of redis-server left after $1: $(ps -o pid=,stat=,wchan=,args= --ppid "$redis" | tr '\n' ';')"
}

start "$work/server.log"

# 5000 keys through one pipelined connection.
for i in $(seq 1 5000); do printf 'SET key:%d value-%d-%d\r\n' "$i" "$i" "$seed"; done >"$work/load.txt"
out=$(timeout 60 redis-cli -p "$port" --pipe <"$work/load.txt" 2>&1)
grep -q "errors: 0, replies: 5000" <<<"$out" || fail "loading 5000 keys: $out"

# BGSAVE: the child writes dump.rdb.
[ "$(cli bgsave)" = "Background saving started" ] || fail "BGSAVE: $(cli bgsave)"
wait_info rdb_bgsave_in_progress 0 rdb_last_bgsave_status ok
grep -q "Background saving terminated with success" "$work/server.log" || fail "no successful BGSAVE in the log"
no_children BGSAVE
[ -s "$work/dump.rdb" ] || fail "no dump.rdb"
if command -v redis-check-rdb >/dev/null; then
    redis-check-rdb "$work/dump.rdb" >"$work/check-rdb.out" 2>&1 || fail "redis-check-rdb: $(tail -3 "$work/check-rdb.out")"
    grep -q "5000 keys read" "$work/check-rdb.out" || fail "redis-check-rdb: $(grep keys "$work/check-rdb.out")"
fi

# Writes, then BGREWRITEAOF with writes while the child runs (they go to the new increment),
# then more writes after it.
for i in $(seq 1 100); do printf 'INCR counter\r\nLPUSH list item-%d\r\n' "$i"; done >"$work/more.txt"
out=$(timeout 60 redis-cli -p "$port" --pipe <"$work/more.txt" 2>&1)
grep -q "errors: 0, replies: 200" <<<"$out" || fail "INCR/LPUSH: $out"
[ "$(cli bgrewriteaof)" = "Background append only file rewriting started" ] || fail "BGREWRITEAOF refused"
for i in $(seq 1 50); do cli set "during:$i" "$i" >/dev/null; done
wait_info aof_rewrite_in_progress 0 aof_rewrite_scheduled 0 aof_last_bgrewrite_status ok
grep -q "Background AOF rewrite finished successfully" "$work/server.log" || fail "no successful AOF rewrite in the log"
no_children BGREWRITEAOF
for i in $(seq 1 50); do [ "$(cli set "during:$i" "$i")" = OK ] || fail "SET during:$i"; done
[ "$(cli del key:7)" = 1 ] || fail "DEL key:7"
[ "$(cli set after "the end")" = OK ] || fail "SET after"
[ "$(cli incr counter)" = 101 ] || fail "INCR counter"

digest=$(cli debug digest)
[[ $digest =~ ^[0-9a-f]{40}$ ]] || fail "DEBUG DIGEST: $digest"
dbsize=$(cli dbsize)
[ "$dbsize" = 5052 ] || fail "DBSIZE $dbsize, expected 5052" # 4999 keys, counter, list, 50 during:, after

# SHUTDOWN NOSAVE: nothing but the AOF keeps the data (fsynced at shutdown).
cli shutdown nosave >/dev/null
wait_exit "$daemon_pid" 100 || fail "redis-server did not shut down"
wait "$daemon_pid"
status=$?
daemon_pid=""
[ $status -eq 0 ] || fail "the tool exited $status after SHUTDOWN NOSAVE"
grep -q "Redis is now ready to exit" "$work/server.log" || fail "no clean shutdown"
if command -v redis-check-aof >/dev/null; then
    redis-check-aof "$work/appendonlydir/appendonly.aof.manifest" >"$work/check-aof.out" 2>&1 ||
        fail "redis-check-aof: $(tail -3 "$work/check-aof.out")"
    grep -q "is valid" "$work/check-aof.out" || fail "redis-check-aof: $(tail -3 "$work/check-aof.out")"
fi
mv "$work/dump.rdb" "$work/dump.rdb.bgsave" # the restart must load the AOF, not the snapshot

# A fresh redis-server under the shim on the same directory.
start "$work/restart.log"
grep -q "DB loaded from append only file" "$work/restart.log" || fail "the restart did not load the AOF: $(grep -i load "$work/restart.log")"
[ "$(cli dbsize)" = "$dbsize" ] || fail "after the restart: DBSIZE $(cli dbsize), expected $dbsize"
[ "$(cli debug digest)" = "$digest" ] || fail "after the restart: DEBUG DIGEST $(cli debug digest), expected $digest"
for i in $(seq 1 5000); do printf 'GET key:%d\r\n' "$i"; done | timeout 60 redis-cli -p "$port" >"$work/values.txt" 2>&1
for i in $(seq 1 5000); do [ "$i" = 7 ] && echo "" || echo "value-$i-$seed"; done | cmp -s - "$work/values.txt" ||
    fail "after the restart: values differ: $(for i in $(seq 1 5000); do [ "$i" = 7 ] && echo "" || echo "value-$i-$seed"; done | diff - "$work/values.txt" | head -4)"
[ "$(cli get counter)" = 101 ] || fail "after the restart: counter $(cli get counter)"
[ "$(cli llen list)" = 100 ] || fail "after the restart: LLEN list $(cli llen list)"
[ "$(cli lindex list 0)" = item-100 ] || fail "after the restart: LINDEX list 0"
[ "$(cli get after)" = "the end" ] || fail "after the restart: GET after"
cli shutdown nosave >/dev/null
wait_exit "$daemon_pid" 100 || fail "the restarted redis-server did not shut down"
wait "$daemon_pid"
status=$?
daemon_pid=""
[ $status -eq 0 ] || fail "the restarted server's tool exited $status"
echo "redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'): BGSAVE, BGREWRITEAOF, restart from the AOF: $dbsize keys, digest $digest"
grep -h "^moonshim: seed" "$work/server.log" "$work/restart.log"
