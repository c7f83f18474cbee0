#!/usr/bin/env bash
# daemonize.sh: daemons that daemonize themselves under moonshim: redis-server --daemonize yes,
# memcached -d, nginx with "daemon on" (then master + 2 workers), each writing a pid file in its
# data directory (modelled storage). For each:
#   - the tool returns 0 when the foreground process exits after forking;
#   - the pid file names a live process that leads its own session (setsid) and has the shim
#     loaded; it serves a real client exactly;
#   - stopped the daemon's way (SHUTDOWN, SIGTERM, SIGQUIT) it exits, removes its pid file and
#     leaves no process; its own trace (a child's: trace.1) ends with exit status 0.
# Every case runs; the test fails if any did. A daemon that is not installed is skipped (77 when
# none is).
# usage: daemonize.sh TOOL [SEED]    (default seed 1)
set -u
tool=$1
seed=${2:-1}
. "$(dirname "$0")/lib.sh"
need ps timeout
work=$(mktemp -d /tmp/moonshim-daemonize-XXXXXX)
daemon=""
cleanup() {
    exec 3>&- 2>/dev/null
    if [ -n "$daemon" ] && alive "$daemon"; then
        kill -KILL $(ps -o pid= --ppid "$daemon") "$daemon" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
failures=() ran=0

# case_start NAME: a fresh data directory $dir; case_fail MESSAGE: record and return 1.
case_start() {
    what=$1
    dir=$work/$1
    mkdir -p "$dir"
    port=$(pick_port 9000)
    daemon=""
    ran=1
}
case_fail() {
    failures+=("$what: $*")
    echo "FAIL: seed $seed: $what: $*"
    [ -n "$daemon" ] && alive "$daemon" && for pid in "$daemon" $(ps -o pid= --ppid "$daemon"); do proc_state "$pid"; done
    [ -n "$daemon" ] && alive "$daemon" && kill -KILL $(ps -o pid= --ppid "$daemon") "$daemon" 2>/dev/null
    daemon=""
    return 1
}

# launch PIDFILE ARGS...: the daemon under the tool (which returns when the foreground process
# exits); then the daemon's pid from PIDFILE, checked as described above.
launch() {
    local pidfile=$1 status
    shift
    timeout 30 "$tool" exec --seed "$seed" --trace "$dir/trace" \
        --faults "time.external_wall=on,storage.paths=$dir" -- "$@" >"$dir/tool.log" 2>&1 </dev/null
    status=$?
    [ $status -eq 0 ] || { case_fail "the tool exited $status: $(tail -2 "$dir/tool.log")"; return 1; }
    for _ in $(seq 1 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
    daemon=$(cat "$pidfile" 2>/dev/null)
    [[ $daemon =~ ^[0-9]+$ ]] || { daemon=""; case_fail "no pid in $pidfile"; return 1; }
    alive "$daemon" || { case_fail "pid $daemon from the pid file is not running"; return 1; }
    [ "$(ps -o sid= -p "$daemon" | tr -d ' ')" = "$daemon" ] || { case_fail "pid $daemon does not lead its own session"; return 1; }
    grep -q libmoonshim "/proc/$daemon/maps" || { case_fail "pid $daemon does not have the shim loaded"; return 1; }
    # No probing connection: the client's first connection must be the daemon's first accept.
}

# finish PIDFILE: after the stop request: the daemon and its children exit within 10 s, the pid
# file is gone, the daemon's trace ends with exit status 0.
finish() {
    local pidfile=$1 children
    children=$(ps -o pid= --ppid "$daemon")
    wait_exit "$daemon" 100 || { case_fail "pid $daemon did not exit"; return 1; }
    for pid in $children; do wait_exit "$pid" 50 || { case_fail "child $pid did not exit"; return 1; }; done
    daemon=""
    [ ! -e "$pidfile" ] || { case_fail "the pid file is still there"; return 1; }
    [ -f "$dir/trace.1" ] || { case_fail "no trace of the daemonized process (trace.1)"; return 1; }
    tail -1 "$dir/trace.1" | grep -q '"end":"exit","status":0,' ||
        { case_fail "the daemon's trace does not end with exit 0: $(tail -1 "$dir/trace.1" | cut -c1-120)"; return 1; }
    echo "$what: daemonized, served, stopped; traces: $(cd "$dir" && ls trace* | tr '\n' ' ')"
}

# --- redis-server --daemonize yes ----------------------------------------------------------
redis_case() {
    case_start redis
    launch "$dir/redis.pid" redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" \
        --appendonly yes --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" || return
    local answer
    for _ in $(seq 1 50); do
        answer=$(timeout 10 redis-cli -p "$port" set greeting hello 2>&1)
        [[ $answer == "Could not connect"* ]] || break
        sleep 0.1
    done
    [ "$answer" = OK ] || { case_fail "SET answered '$answer'"; return; }
    answer=$(timeout 10 redis-cli -p "$port" incrby n 42 2>&1)
    [ "$answer" = 42 ] || { case_fail "INCRBY answered '$answer'"; return; }
    answer=$(timeout 10 redis-cli -p "$port" get greeting 2>&1)
    [ "$answer" = hello ] || { case_fail "GET answered '$answer'"; return; }
    timeout 10 redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
    finish "$dir/redis.pid" || return
    grep -q "Redis is now ready to exit" "$dir/redis.log" || case_fail "no clean shutdown in the log"
}
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then redis_case; else
    echo "redis-server not installed: skipping its case"; fi

# --- memcached -d -P -----------------------------------------------------------------------
memcached_case() {
    case_start memcached
    local user=() got
    [ "$(id -u)" = 0 ] && user=(-u root)
    launch "$dir/memcached.pid" memcached -d -P "$dir/memcached.pid" -l 127.0.0.1 -p "$port" -U 0 \
        "${user[@]}" || return
    for _ in $(seq 1 50); do
        exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
        sleep 0.1
    done
    { : >&3; } 2>/dev/null || { case_fail "cannot connect"; return; }
    # memcached wrote its pid file (in modelled storage) with fopen/fprintf/fclose: this first
    # connection may get the descriptor number that file had.
    printf 'version\r\nset greeting 0 0 5\r\nhello\r\nget greeting\r\n' >&3
    want=$'VERSION '"$(memcached -V | cut -d' ' -f2)"$'\r\nSTORED\r\nVALUE greeting 0 5\r\nhello\r\nEND\r\n'
    IFS= read -r -N "${#want}" -t 10 got <&3
    exec 3>&-
    [ "$got" = "$want" ] || { case_fail "expected $(printf '%q' "$want"), got $(printf '%q' "${got:0:120}")"; return; }
    kill -TERM "$daemon"
    finish "$dir/memcached.pid"
}
if command -v memcached >/dev/null; then memcached_case; else
    echo "memcached not installed: skipping its case"; fi

# --- nginx, daemon on ----------------------------------------------------------------------
nginx_case() {
    case_start nginx
    local workers body
    mkdir -p "$dir/html"
    printf 'daemonized nginx\n' >"$dir/html/index.html"
    {
        [ "$(id -u)" = 0 ] && echo "user root;"
        cat <<EOF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 64; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/client_body_temp;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;
    server { listen 127.0.0.1:$port; root $dir/html; }
}
EOF
    } >"$dir/nginx.conf"
    launch "$dir/nginx.pid" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" || return
    for _ in $(seq 1 50); do
        workers=$(ps -o args= --ppid "$daemon" | grep -c "nginx: worker process")
        [ "$workers" -eq 2 ] && break
        sleep 0.1
    done
    [ "$workers" -eq 2 ] || { case_fail "$workers workers under the master $daemon"; return; }
    body=$(curl -sS -m 10 --retry 50 --retry-connrefused --retry-delay 0 "http://127.0.0.1:$port/" 2>&1)
    [ "$body" = "daemonized nginx" ] || { case_fail "GET / answered '$body'"; return; }
    kill -QUIT "$daemon"
    finish "$dir/nginx.pid"
}
if command -v nginx >/dev/null && command -v curl >/dev/null; then nginx_case; else
    echo "nginx or curl not installed: skipping its case"; fi

[ $ran = 1 ] || exit 77
[ ${#failures[@]} -eq 0 ] || { echo "${#failures[@]} case(s) failed"; exit 1; }
