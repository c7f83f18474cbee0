#!/usr/bin/env bash
# nginx_basic.sh: Debian's nginx under moonshim, master process + 2 workers (forked inside the
# simulation), serves static files to curl (not simulated): exact bodies (a 200 KB file checked
# by sha256, a range of it, a small index.html), status codes (200, 206, 404, 405), a burst of
# parallel downloads; a reload (SIGHUP through the tool) replaces both workers with ones that
# serve the new configuration; a graceful stop (SIGQUIT to the master) ends the run with
# nginx's native status, 0, leaving no process behind.
# usage: nginx_basic.sh TOOL [SEED]    (default seed 1; exits 77 when nginx or curl is missing)
set -u
tool=$1
seed=${2:-1}
. "$(dirname "$0")/lib.sh"
need nginx curl sha256sum ps setsid
work=$(mktemp -d /tmp/moonshim-nginx-XXXXXX)
cleanup() {
    stop_group
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "FAIL: seed $seed: $*"
    [ -f "$work/tool.log" ] && { echo "--- tool output:"; tail -5 "$work/tool.log"; }
    [ -f "$work/error.log" ] && { echo "--- nginx error.log:"; tail -12 "$work/error.log"; }
    [ -n "$daemon_pid" ] && for pid in $(group_pids); do proc_state "$pid"; done
    exit 1
}
port=$(pick_port 24000)

# The site: a small index.html and a 200 KB file of known content.
mkdir -p "$work/html"
printf '<!doctype html>\n<title>moonshim</title>\n<p>served under moonshim, seed %s</p>\n' "$seed" >"$work/html/index.html"
seq 1 100000 | head -c 204800 >"$work/html/blob.bin"
blob_sha=$(sha256sum <"$work/html/blob.bin" | cut -d' ' -f1)

# write_config VERSION: nginx.conf; everything nginx writes (pid, logs, temp files) is in $work.
write_config() {
    {
        [ "$(id -u)" = 0 ] && echo "user root;" # as root, workers would run as nobody
        cat <<EOF
worker_processes 2;
master_process on;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log info;
events { worker_connections 128; }
http {
    log_format bypid '\$pid \$status \$body_bytes_sent "\$request"';
    access_log $work/access.log bypid;
    client_body_temp_path $work/client_body_temp;
    proxy_temp_path $work/proxy_temp;
    fastcgi_temp_path $work/fastcgi_temp;
    uwsgi_temp_path $work/uwsgi_temp;
    scgi_temp_path $work/scgi_temp;
    types { text/html html; application/octet-stream bin; }
    server {
        listen 127.0.0.1:$port;
        root $work/html;
        location = /version { default_type text/plain; return 200 "config $1\n"; }
    }
}
EOF
    } >"$work/nginx.conf"
}
write_config 1

start_daemon "$work/tool.log" "$tool" exec --seed "$seed" \
    --faults "time.external_wall=on,storage.paths=$work${NGINX_EXTRA_FAULTS:+,$NGINX_EXTRA_FAULTS}" \
    -- nginx -p "$work/" -e "$work/error.log" -c "$work/nginx.conf"
wait_port "$port" || fail "nginx did not start under the shim"
sleep 0.5 # the master is still starting its workers: give the run a moment to go wrong
alive "$daemon_pid" || fail "the tool exited after starting nginx"
master=$(ps -o pid= --ppid "$daemon_pid" | tr -d ' ')
[ -n "$master" ] || fail "no nginx master under the tool"

# workers: the master's children that are nginx workers, one pid per line (2 expected).
workers() { ps -o pid=,args= --ppid "$master" | awk '/nginx: worker process/ {print $1}'; }
# check_workers: exactly two workers (they may still be starting: wait up to 5 s).
check_workers() {
    local i
    for i in $(seq 1 50); do
        [ "$(workers | wc -l)" -eq 2 ] && return 0
        sleep 0.1
    done
    fail "expected 2 worker processes under the master $master, found: $(ps -o pid=,args= --ppid "$master" | tr '\n' ';')"
}

# get PATH WANT-STATUS [CURL-ARGS...]: GET http://127.0.0.1:PORT/PATH into $work/body;
# requires the status.
get() {
    local path=$1 want=$2 code
    shift 2
    code=$(curl -sS -m 10 -o "$work/body" -w '%{http_code}' "$@" "http://127.0.0.1:$port/$path" 2>"$work/curl.err")
    [ "$code" = "$want" ] || fail "GET /$path: status '$code', expected $want ($(cat "$work/curl.err"))"
}

# Everything the site serves, checked exactly.
check_site() {
    get "" 200
    cmp -s "$work/body" "$work/html/index.html" || fail "GET /: wrong body"
    get blob.bin 200
    [ "$(sha256sum <"$work/body" | cut -d' ' -f1)" = "$blob_sha" ] ||
        fail "GET /blob.bin: sha256 $(sha256sum <"$work/body" | cut -d' ' -f1), expected $blob_sha ($(stat -c %s "$work/body") bytes)"
    get blob.bin 206 -r 100000-132767
    cmp -s "$work/body" <(tail -c +100001 "$work/html/blob.bin" | head -c 32768) || fail "range: wrong bytes"
    get no/such/file 404
    grep -q "404 Not Found" "$work/body" || fail "404 without nginx's 404 page"
    get "" 405 -X DELETE
    # Several requests on one keep-alive connection.
    code=$(curl -sS -m 10 -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}' \
           "http://127.0.0.1:$port/" "http://127.0.0.1:$port/blob.bin" "http://127.0.0.1:$port/x")
    [ "$code" = 200200404 ] || fail "keep-alive requests: statuses $code, expected 200 200 404"
    # A burst of 16 parallel downloads of the big file.
    local i
    for i in $(seq 1 16); do
        curl -sS -m 20 -o "$work/par$i" "http://127.0.0.1:$port/blob.bin" 2>"$work/par$i.err" &
    done
    wait $(jobs -p | grep -vx "$daemon_pid")
    for i in $(seq 1 16); do
        [ "$(sha256sum <"$work/par$i" | cut -d' ' -f1)" = "$blob_sha" ] ||
            fail "parallel download $i: wrong sha256 ($(stat -c %s "$work/par$i") bytes; $(cat "$work/par$i.err"))"
    done
    rm -f "$work"/par*
}

check_workers
for pid in "$master" $(workers); do
    grep -q libmoonshim "/proc/$pid/maps" || fail "process $pid ($(ps -o args= -p "$pid")) does not run under the shim"
done
check_site
get version 200
[ "$(cat "$work/body")" = "config 1" ] || fail "/version: $(cat "$work/body")"
served_by=$(awk '{print $1}' "$work/access.log" | sort -u | tr '\n' ' ')
alive "$daemon_pid" || fail "the tool exited while nginx served"

# Reload: SIGHUP to the tool reaches the master, which reads the new configuration and replaces
# its workers (the old ones finish gracefully).
old_workers=$(workers | sort | tr '\n' ' ')
write_config 2
kill -HUP "$daemon_pid"
for _ in $(seq 1 100); do
    get version 200
    [ "$(cat "$work/body")" = "config 2" ] && break
    sleep 0.1
done
[ "$(cat "$work/body")" = "config 2" ] || fail "reload: /version still says '$(cat "$work/body")'"
for _ in $(seq 1 50); do
    new_workers=$(workers | sort | tr '\n' ' ')
    [ "$(workers | wc -l)" -eq 2 ] && [ -z "$(comm -12 <(tr ' ' '\n' <<<"$old_workers" | sed '/^$/d') \
        <(tr ' ' '\n' <<<"$new_workers" | sed '/^$/d'))" ] && break
    sleep 0.1
done
[ "$(workers | wc -l)" -eq 2 ] || fail "after the reload: $(workers | wc -l) workers"
[ "$old_workers" != "$new_workers" ] || fail "the reload kept the old workers ($old_workers)"
check_site

# Graceful stop: SIGQUIT to the master (the tool forwards only TERM, INT and HUP); nginx waits for
# its workers and exits 0, as it does natively.
alive "$daemon_pid" || fail "the tool exited before the stop"
kill -QUIT "$master"
wait_exit "$daemon_pid" 100 || fail "nginx did not stop within 10 s of SIGQUIT"
wait "$daemon_pid"
status=$?
leftover=$(group_pids)
[ -z "$leftover" ] || fail "processes left behind: $(ps -o pid=,args= -p "$(echo $leftover | tr ' ' ,)")"
daemon_pid=""
[ $status -eq 0 ] || fail "the tool exited $status after SIGQUIT (nginx natively: 0)"
grep -q "^moonshim: seed $seed: exit 0, " "$work/tool.log" || fail "no result line with exit 0"
grep -q "signal 3 (SIGQUIT) received" "$work/error.log" || fail "nginx did not log the SIGQUIT"
[ "$(grep -c '\[notice\] [0-9#]*: exit$' "$work/error.log")" -ge 5 ] ||
    fail "expected 4 workers and the master to log 'exit'"
[ ! -e "$work/nginx.pid" ] || fail "nginx left its pid file"
grep -E '\[(alert|emerg|crit)\]' "$work/error.log" && fail "nginx logged alerts"
echo "nginx $(nginx -v 2>&1 | cut -d/ -f2): 2 workers, reload, graceful stop; first workers served from pids: $served_by"
grep "^moonshim: seed" "$work/tool.log"
