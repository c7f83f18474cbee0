#!/usr/bin/env bash
# recipe.sh: crash-test a daemon that stores data, here redis-server. Copy it and change the
# marked lines for your own daemon.
#
#   recipe.sh [MOONSHIM [SEED]]     exit 0: every acknowledged write survived the crashes;
#                                   1: one did not (the replay line is printed); 77: no redis
#
# Plan: run the daemon under moonshim with crashes on; drive it with a real client that writes
# down, OUTSIDE the daemon's data directory, every write the daemon acknowledged; the simulated
# crashes throw away what was not durable, as a power loss would, and the tool restarts the
# daemon on what is left; at the end start it once more, without crashes, and read every
# acknowledged write back.
set -u
moonshim=${1:-moonshim}
seed=${2:-1}
for program in redis-server redis-cli; do                               # <- your daemon, client
    command -v "$program" >/dev/null || { echo "$program not installed: skipping"; exit 77; }
done
work=$(mktemp -d /tmp/moonshim-recipe-XXXXXX)
data=$work/data    # the daemon's files: modelled by moonshim (storage.paths), lost in crashes
acks=$work/acks    # the client's promises: outside storage.paths, so no crash touches them
mkdir "$data"
port=$((12000 + $$ % 3000))   # below the ephemeral ports (32768-60999) clients get
cleanup() {        # never leave a daemon behind: stop the tool and the daemon by their pids
    if [ -n "${tool_pid:-}" ]; then
        kill -TERM "$tool_pid" 2>/dev/null         # the tool passes SIGTERM on to the daemon
        sleep 1
        kill -KILL $(pgrep -P "$tool_pid") "$tool_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The daemon, with the durability we test: appendfsync always promises that an OK'd write is on
# disk before the OK is sent.                                          # <- your daemon
daemon=(redis-server --port "$port" --bind 127.0.0.1 --dir "$data" --save ""
        --appendonly yes --appendfsync always)
# The faults: model the files under $data; crash at each intercepted call with probability
# 0.002 (several times per run: a redis SET is about 40 calls); let the daemon's timers wait
# for the real client in wall time (time.external_wall, see moonshim.conf(5)).
# storage.torn_writes=off: a write the crash loses comes back as it was, and a lost append
# shrinks the file back. With torn writes on (the default), about one seed in thirty leaves
# zeros after the last acknowledged command of the AOF (a lost append that kept its size), and
# redis 7.0 refuses to start ("Bad file format reading the append only file", redis/redis#5177:
# every acknowledged write is in the file, but redis-check-aof --fix is needed). Remove it and
# sweep seeds to see that.
faults="storage.paths=$data,time.external_wall=on,process.crash_probability=0.002,storage.torn_writes=off"
# --restarts 3: after a simulated crash the tool starts the daemon again (incarnations 1, 2, 3:
# the seed mixed with the incarnation, so it crashes elsewhere), on the files the crash left.
run=("$moonshim" exec --seed "$seed" --restarts 3 --faults "$faults" -- "${daemon[@]}")

# On failure: why, and the one line that replays the daemon's side of the run (its choices
# replay; the client's timing is real, so rerun this script with the seed to drive it again).
failed() {
    echo "FAIL: seed $seed: $* (rerun: $0 $moonshim $seed)"
    echo "replay: ${run[*]:0:7} '$faults' -- $(printf '%q ' "${daemon[@]}")"
    exit 1
}

# 1. Start the daemon under moonshim, in the background.
"${run[@]}" >"$work/server.log" 2>&1 </dev/null &
tool_pid=$!

# 2. Drive it: 300 writes; each OK is a promise, written down. A crashed daemon refuses
#    connections until the tool has restarted it and it has loaded its files again; after the
#    last crash the tool exits, and the client stops.
: >"$acks"
for i in $(seq 1 300); do
    kill -0 "$tool_pid" 2>/dev/null || break
    answer=$(timeout 10 redis-cli -p "$port" set "key:$i" "value-$i" 2>&1)   # <- your client
    if [ "$answer" = OK ]; then echo "$i" >>"$acks"; else sleep 0.05; fi
done
if kill -0 "$tool_pid" 2>/dev/null; then             # still running: stop it cleanly
    timeout 10 redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
fi
wait "$tool_pid"
tool_pid=""
crashes=$(grep -c "simulated crash" "$work/server.log")
[ "$crashes" -ge 1 ] || failed "the daemon never crashed: $(tail -1 "$work/server.log")"

# 3. Restart it once more under moonshim, same seed, crashes off, and check every promise.
"$moonshim" exec --seed "$seed" --faults "storage.paths=$data,time.external_wall=on" \
    -- "${daemon[@]}" >"$work/check.log" 2>&1 </dev/null &
tool_pid=$!
for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$port" ping 2>&1)" = PONG ] && break
    sleep 0.1
done
[ "$(redis-cli -p "$port" ping 2>&1)" = PONG ] ||
    failed "the daemon does not start on what $crashes crash(es) left: $(grep -v '^moonshim' "$work/check.log" | tail -1)"
sed 's/^/GET key:/' "$acks" | redis-cli -p "$port" >"$work/got" 2>&1             # <- your check
sed 's/^/value-/' "$acks" | diff - "$work/got" >"$work/lost"
lost=$?
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
wait "$tool_pid"
tool_pid=""
[ $lost -eq 0 ] || failed "acknowledged writes lost or wrong after $crashes crash(es): $(head -3 "$work/lost" | tr '\n' ' ')"
echo "seed $seed: $(wc -l <"$acks") acknowledged writes of 300 all survived $crashes crash(es)"
