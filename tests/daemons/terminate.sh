#!/usr/bin/env bash
# terminate.sh: the graceful-shutdown fault (process.terminate_at: SIGTERM at a virtual moment,
# SIGKILL after process.terminate_grace) on daemons serving real clients while it strikes:
#   - redis-server (AOF, appendfsync everysec): on SIGTERM it shuts down cleanly (exit 0); with
#     a grace of 0 it is killed at once (the tool exits 1, the trace has the kill fault); either
#     way a restart under the shim has every write the client saw acknowledged (a process kill
#     is not a power loss: what redis wrote survives);
#   - memcached: exits 0 on SIGTERM; every reply before it was exact;
#   - nginx (master + 2 workers, virtual pids): the master passes SIGTERM to its workers over its
#     channels, all exit, the run ends with exit 0; every response before was exact.
# Each time the trace has exactly one terminate fault, at or after the chosen virtual moment,
# and nothing is left running. A daemon that is not installed is skipped (77 when none is).
# usage: terminate.sh TOOL [SEED]    (default seed 1)
set -u
tool=$1
seed=${2:-1}
. "$(dirname "$0")/lib.sh"
need ps setsid timeout
work=$(mktemp -d /tmp/moonshim-terminate-XXXXXX)
cleanup() {
    exec 3>&- 2>/dev/null
    stop_group
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
trap '' PIPE
fail() {
    echo "FAIL: seed $seed: ${what:-}: $*"
    [ -f "$work/run/tool.log" ] && tail -5 "$work/run/tool.log"
    exit 1
}
ran=0
uptime_ns=100000000000 # time.uptime's default: the trace's "t" is CLOCK_MONOTONIC

# run_daemon LOG FAULTS ARGS...: the daemon under the shim with the trace in $work/run/trace.
run_daemon() {
    local log=$1 faults=$2
    shift 2
    start_daemon "$log" "$tool" exec --seed "$seed" --trace "$work/run/trace" \
        --faults "time.external_wall=on,storage.paths=$work/run,$faults" -- "$@"
}

# check_end STATUS KILL: the tool ended with STATUS, the first process's trace has one terminate
# fault at or after 1 virtual second, a kill fault when KILL is 1 and none otherwise, and no
# process of the run is left.
check_end() {
    local want=$1 kill=$2 status t
    wait_exit "$daemon_pid" 150 || {
        for pid in $(group_pids); do proc_state "$pid"; done
        fail "still running 15 s after the terminate moment"
    }
    wait "$daemon_pid"
    status=$?
    local left
    left=$(group_pids)
    daemon_pid=""
    [ -z "$left" ] || fail "left running: $(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)")"
    [ $status -eq "$want" ] || fail "the tool exited $status, expected $want"
    [ "$(grep -c '"fault":"terminate"' "$work/run/trace")" -eq 1 ] || fail "not one terminate fault in the trace"
    t=$(grep '"fault":"terminate"' "$work/run/trace" | sed 's/.*"t":\([0-9]*\).*/\1/')
    [ "$t" -ge $((uptime_ns + 1000000000)) ] || fail "terminate at t=$t, before the virtual second 1"
    [ "$(grep -c '"fault":"kill"' "$work/run/trace")" -eq "$kill" ] || fail "expected $kill kill faults"
}

# --- redis-server --------------------------------------------------------------------------
redis_case() { # redis_case GRACE STATUS KILL
    local grace=$1 status=$2 kill=$3 port acked=0 i answer
    what="redis-server, grace $grace"
    rm -rf "$work/run"
    mkdir "$work/run"
    port=$(pick_port 15000)
    run_daemon "$work/run/tool.log" "process.terminate_at=1s,process.terminate_grace=$grace" \
        redis-server --port "$port" --bind 127.0.0.1 --dir "$work/run" --appendonly yes --save ""
    wait_port "$port" || fail "redis-server did not start"
    # Write until the server goes away; remember what it acknowledged.
    for i in $(seq 1 100000); do
        answer=$(timeout 10 redis-cli -p "$port" set "key:$i" "value-$i" 2>&1)
        [ "$answer" = OK ] || break
        acked=$i
    done
    case $answer in
    OK | "Error: Server closed the connection" | "Could not connect"* | "Error: Connection reset by peer") ;;
    *) fail "SET key:$i answered '$answer'" ;;
    esac
    check_end "$status" "$kill"
    [ $acked -gt 0 ] || fail "no write was acknowledged before the terminate"
    if [ "$kill" = 0 ]; then
        grep -q "Received SIGTERM" "$work/run/tool.log" || fail "redis did not handle the SIGTERM"
        grep -q "Redis is now ready to exit" "$work/run/tool.log" || fail "no clean shutdown"
    else
        grep -q "the program was killed by signal 9" "$work/run/tool.log" || fail "not killed by SIGKILL"
    fi
    # Restart without the fault: every acknowledged write is there.
    mv "$work/run/trace" "$work/run/trace.terminated"
    run_daemon "$work/run/restart.log" "" \
        redis-server --port "$port" --bind 127.0.0.1 --dir "$work/run" --appendonly yes --save ""
    wait_port "$port" || fail "the restart did not start"
    for _ in $(seq 1 50); do [ "$(redis-cli -p "$port" ping 2>&1)" = PONG ] && break; sleep 0.1; done
    seq 1 "$acked" | sed 's/^/GET key:/' | timeout 30 redis-cli -p "$port" >"$work/run/got" 2>&1
    seq 1 "$acked" | sed 's/^/value-/' | cmp -s - "$work/run/got" ||
        fail "after the restart, acknowledged writes are missing: $(seq 1 "$acked" | sed 's/^/value-/' | diff - "$work/run/got" | head -3 | tr '\n' ' ')"
    timeout 10 redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
    wait_exit "$daemon_pid" 100 || fail "the restarted server did not shut down"
    wait "$daemon_pid"
    daemon_pid=""
    echo "$what: $acked writes acknowledged before the terminate, all there after a restart;" \
         "$(grep -h '^moonshim: seed' "$work/run/tool.log" | head -1)"
}
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    redis_case 10s 0 0
    redis_case 0 1 1
    ran=1
else
    echo "redis-server not installed: skipping its cases"
fi

# --- memcached -----------------------------------------------------------------------------
if command -v memcached >/dev/null; then
    what=memcached
    rm -rf "$work/run"
    mkdir "$work/run"
    port=$(pick_port 15000)
    user=()
    [ "$(id -u)" = 0 ] && user=(-u root)
    run_daemon "$work/run/tool.log" "process.terminate_at=1s" \
        memcached -l 127.0.0.1 -p "$port" -U 0 -t 2 "${user[@]}"
    wait_port "$port" || fail "memcached did not start"
    exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"
    stored=0
    for i in $(seq 1 100000); do
        printf 'set key:%d 0 0 %d\r\nvalue-%d\r\n' "$i" $((6 + ${#i})) "$i" >&3 2>/dev/null || break
        IFS= read -r -t 10 line <&3 2>/dev/null
        case $? in 0) ;; 1) break ;; *) fail "no answer within 10 s" ;; esac
        [ "$line" = $'STORED\r' ] || fail "set key:$i answered $(printf '%q' "$line")"
        stored=$i
        [ $((i % 100)) = 0 ] && sleep 0.01
    done
    exec 3>&-
    check_end 0 0
    [ $stored -gt 0 ] || fail "nothing was stored before the terminate"
    echo "memcached: $stored sets answered exactly, then a clean exit on the terminate;" \
         "$(grep -h '^moonshim: seed' "$work/run/tool.log")"
    ran=1
else
    echo "memcached not installed: skipping its case"
fi

# --- nginx ---------------------------------------------------------------------------------
if command -v nginx >/dev/null && command -v curl >/dev/null; then
    what="nginx, virtual pids"
    rm -rf "$work/run"
    mkdir -p "$work/run/html"
    port=$(pick_port 15000)
    printf 'terminate test\n' >"$work/run/html/index.html"
    {
        [ "$(id -u)" = 0 ] && echo "user root;"
        cat <<EOF
worker_processes 2;
daemon off;
pid $work/run/nginx.pid;
error_log $work/run/error.log info;
events { worker_connections 64; }
http {
    access_log $work/run/access.log;
    client_body_temp_path $work/run/client_body_temp;
    proxy_temp_path $work/run/proxy_temp;
    fastcgi_temp_path $work/run/fastcgi_temp;
    uwsgi_temp_path $work/run/uwsgi_temp;
    scgi_temp_path $work/run/scgi_temp;
    server { listen 127.0.0.1:$port; root $work/run/html; }
}
EOF
    } >"$work/run/nginx.conf"
    run_daemon "$work/run/tool.log" "process.terminate_at=1s,process.virtual_pids=on" \
        nginx -p "$work/run/" -e "$work/run/error.log" -c "$work/run/nginx.conf"
    wait_port "$port" || fail "nginx did not start"
    served=0
    for i in $(seq 1 100000); do
        body=$(curl -sS -m 5 "http://127.0.0.1:$port/" 2>"$work/run/curl.err")
        rc=$?
        [ $rc -eq 0 ] || break
        [ "$body" = "terminate test" ] || fail "response $i: $(printf '%q' "$body")"
        served=$i
    done
    case $rc in 7 | 52 | 56) ;; *) fail "curl exit $rc: $(cat "$work/run/curl.err")" ;; esac
    check_end 0 0
    [ $served -gt 0 ] || fail "nothing was served before the terminate"
    grep -q "signal 15 (SIGTERM) received" "$work/run/error.log" || fail "the master did not log the SIGTERM"
    [ "$(grep -c 'worker process [0-9]* exited with code 0' "$work/run/error.log")" -eq 2 ] ||
        fail "the workers did not both exit with code 0: $(grep 'exited' "$work/run/error.log")"
    echo "nginx: $served responses exact, then SIGTERM passed to both workers, exit 0;" \
         "$(grep -h '^moonshim: seed' "$work/run/tool.log")"
    ran=1
else
    echo "nginx or curl not installed: skipping its case"
fi
[ $ran = 1 ] || exit 77
