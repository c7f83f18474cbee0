#!/usr/bin/env bash
# nginx_faults.sh: Debian's nginx under moonshim (master + 2 workers) WITH network faults (random
# closes as FIN or RST, short reads and writes, clogged connections, EINTR) keeps serving curl
# (not simulated), which retries a request whose connection broke:
#   - every response curl receives whole is exactly right (status, body, sha256 of 200 KB);
#   - every request succeeds within 20 tries;
#   - no worker crashes or is replaced, and a graceful stop (SIGQUIT to the master) ends the
#     run with exit 0 within 5 s (the master-worker channel is a socketpair: no faults there);
#   - every failed request is explained by a fault in the traces, one each: a broken
#     connection by fin, rst or eintr; a stall (curl gives up after 3 s) by eintr or a short
#     read, which nginx (edge-triggered epoll) takes to mean the socket is drained: it waits for
#     an edge that does not come (see below);
#   - nginx logs no alert: the model never does what Linux would not (EINTR from a non-blocking
#     call, a short read behind an edge, a broken channel between the processes).
# usage: nginx_faults.sh TOOL [SEED...]   (default seeds 1 2 3; 77 when nginx or curl is missing)
# Environment (optional): NGINX_FAULTS replaces the default network faults.
set -u
tool=$1
shift
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
. "$(dirname "$0")/lib.sh"
need nginx curl sha256sum ps setsid
faults=${NGINX_FAULTS:-network.close=0.02,network.short=0.1,network.clog=0.02,network.eintr=0.01}
work=$(mktemp -d /tmp/moonshim-nginx-faults-XXXXXX)
cleanup() {
    stop_group
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "FAIL: seed ${seed:-?}: $*"
    [ -f "$work/run/tool.log" ] && tail -3 "$work/run/tool.log"
    [ -f "$work/run/error.log" ] && grep -v "closed keepalive" "$work/run/error.log" | tail -6
    exit 1
}

mkdir -p "$work/html"
printf '<!doctype html>\n<title>moonshim</title>\n<p>nginx with network faults</p>\n' >"$work/html/index.html"
seq 1 100000 | head -c 204800 >"$work/html/blob.bin"
blob_sha=$(sha256sum <"$work/html/blob.bin" | cut -d' ' -f1)
index_sha=$(sha256sum <"$work/html/index.html" | cut -d' ' -f1)

# fetch PATH STATUS SHA: GET until curl gets a whole response (20 tries); it must be exactly
# STATUS with a body of sha256 SHA (or, for 404, nginx's error page). Counts broken tries.
fetch() {
    local path=$1 want=$2 sha=$3 try code rc
    for try in $(seq 1 20); do
        rm -f "$work/body"
        code=$(curl -sS -m 3 -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$port/$path" 2>"$work/curl.err")
        rc=$?
        if [ $rc -eq 0 ]; then
            [ "$code" = "$want" ] || fail "GET /$path: status $code, expected $want"
            if [ "$sha" = 404 ]; then
                grep -q "404 Not Found" "$work/body" || fail "GET /$path: not nginx's 404 page"
            else
                [ "$(sha256sum <"$work/body" | cut -d' ' -f1)" = "$sha" ] ||
                    fail "GET /$path: wrong body ($(stat -c %s "$work/body") bytes)"
            fi
            return 0
        fi
        case $rc in
        18 | 28 | 52 | 55 | 56) breaks=$((breaks + 1)) kinds+="$rc " ;; # partial, timeout, empty, send/recv error
        *) fail "GET /$path: curl exit $rc: $(cat "$work/curl.err")" ;;
        esac
        alive "$daemon_pid" || fail "the tool exited"
    done
    fail "GET /$path: 20 broken tries"
}

any_fault=0
for seed in "${seeds[@]}"; do
    rm -rf "$work/run"
    mkdir "$work/run"
    port=$(pick_port 24000)
    run=$work/run
    {
        [ "$(id -u)" = 0 ] && echo "user root;"
        cat <<EOF
worker_processes 2;
master_process on;
daemon off;
pid $run/nginx.pid;
error_log $run/error.log info;
events { worker_connections 128; }
http {
    access_log $run/access.log;
    client_body_temp_path $run/client_body_temp;
    proxy_temp_path $run/proxy_temp;
    fastcgi_temp_path $run/fastcgi_temp;
    uwsgi_temp_path $run/uwsgi_temp;
    scgi_temp_path $run/scgi_temp;
    types { text/html html; application/octet-stream bin; }
    server {
        listen 127.0.0.1:$port;
        root $work/html;
    }
}
EOF
    } >"$run/nginx.conf"
    start_daemon "$run/tool.log" "$tool" exec --seed "$seed" --trace "$run/trace" \
        --faults "time.external_wall=on,storage.paths=$work,$faults" \
        -- nginx -p "$run/" -e "$run/error.log" -c "$run/nginx.conf"
    wait_port "$port" || fail "nginx did not start under the shim"
    sleep 0.5
    alive "$daemon_pid" || fail "the tool exited after starting nginx"
    master=$(ps -o pid= --ppid "$daemon_pid" | tr -d ' ')
    workers() { ps -o pid=,args= --ppid "$master" | awk '/nginx: worker process/ {print $1}' | sort | tr '\n' ' '; }
    for _ in $(seq 1 50); do [ "$(workers | wc -w)" -eq 2 ] && break; sleep 0.1; done
    first_workers=$(workers)
    [ "$(wc -w <<<"$first_workers")" -eq 2 ] || fail "expected 2 workers, found: $first_workers"

    breaks=0 kinds=""
    for i in $(seq 1 40); do
        fetch blob.bin 200 "$blob_sha"
        fetch "" 200 "$index_sha"
        [ $((i % 4)) = 0 ] && fetch "missing/$i" 404 404
    done
    [ "$(workers)" = "$first_workers" ] || fail "the workers changed: $first_workers, now $(workers)"
    kill -QUIT "$master"
    # The master-worker channel is a socketpair, which the network model leaves alone: every
    # worker gets the master's quit command.
    wait_exit "$daemon_pid" 50 || {
        for pid in $(group_pids); do proc_state "$pid"; done
        fail "nginx did not stop within 5 s of SIGQUIT"
    }
    wait "$daemon_pid"
    status=$?
    daemon_pid=""
    [ $status -eq 0 ] || fail "the tool exited $status after SIGQUIT (nginx natively: 0)"
    grep -q "exited on signal" "$run/error.log" && fail "a worker crashed: $(grep "exited on signal" "$run/error.log")"
    # nginx logs at alert level what it does not expect from Linux (EINTR from a non-blocking
    # call, a broken master-worker channel): the model never does that, so no alert at all.
    eintrs=$(cat "$run"/trace* | grep -c '"fault":"eintr"')
    closes=$(cat "$run"/trace* | grep -c '"fault":"\(fin\|rst\)"')
    grep -E '\[(alert|crit|emerg)\]' "$run/error.log" >"$run/alerts"
    [ -s "$run/alerts" ] && fail "nginx logged alerts: $(head -3 "$run/alerts")"
    # A broken connection (curl: partial, empty, send or receive error) is explained by a close
    # or an EINTR; a stall (curl gave up after 3 s) by an EINTR or a short read: nginx reads with
    # edge-triggered epoll and takes a short read or EINTR to mean that the socket is drained,
    # so it waits for an edge that never comes (a kernel never returns EINTR from a non-blocking
    # recv, nor leaves data behind a short read without a new edge; the shim's faults do).
    short_reads=$(cat "$run"/trace* | grep '"fault":"short"' | grep -c '"call":"\(read\|recv\|recvfrom\|recvmsg\)"')
    stalls=$(grep -o '\b28\b' <<<"$kinds" | wc -l)
    broken=$((breaks - stalls))
    [ "$broken" -le $((closes + eintrs)) ] ||
        fail "curl saw $broken broken connections (curl exits: $kinds), the traces explain $((closes + eintrs)) (fin, rst, eintr)"
    [ "$stalls" -le $((eintrs + short_reads)) ] ||
        fail "curl saw $stalls stalls, the traces explain $((eintrs + short_reads)) (eintr, short reads)"
    [ "$breaks" -le $((closes + eintrs + short_reads)) ] ||
        fail "curl saw $breaks failed requests, the traces explain $((closes + eintrs + short_reads))"
    cat "$run"/trace* | grep -q '"fault":' && any_fault=1
    faults_seen=$(cat "$run"/trace* | grep -o '"fault":"[a-z_]*"' | sort | uniq -c |
                  awk '{gsub(/"fault":|"/, "", $2); printf "%s%s %s", sep, $2, $1; sep=", "}')
    echo "seed $seed: faults (master and worker traces: $(ls "$run" | grep -c '^trace')): ${faults_seen:-none};" \
         "curl: $breaks failed tries${kinds:+ (exits $kinds)}, all 110 requests served right;" \
         "nginx alerts: $(wc -l <"$run/alerts");" \
         "$(grep "^moonshim: seed" "$run/tool.log")"
done
seed=""
[ $any_fault -eq 1 ] || fail "no trace showed a fault: the faults did not reach nginx"
