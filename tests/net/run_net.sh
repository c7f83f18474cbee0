#!/usr/bin/env bash
# run_net.sh: the epoll echo server under the shim, echo clients against it, judged.
#
# usage: run_net.sh MODE TOOL SERVER CLIENT [FAULTS]
#   clean    no faults: every client exits 0 (every message intact), the server exits 0, and every
#            byte the clients sent was received and echoed (the server's counts match theirs)
#   benign   FAULTS that a correct program absorbs completely (short transfers, EINTR, spurious
#            readiness, latency): judged as clean, and a trace must show a "fault"
#   faulty   FAULTS (moonshim.conf keys, e.g. network.close=0.02): every client exits 0 or 2
#            (failures, each one detected), never 1 (something accepted wrong); the server exits
#            0 (it never crashes, hangs or loses count of its clients); a trace shows a "fault"
#   both     the clients run under the shim too (each its own simulation, its own seed), with
#            FAULTS when given (then judged as faulty, else as clean); both-benign: as benign
# The server runs as `TOOL exec --seed S --trace T --faults time.external_wall=on,FAULTS -- SERVER
# FAMILY CLIENTS IDLE_MS`; in the other modes the clients run natively (no shim).
# Always: each client makes one connection, so the server must have accepted (or seen aborted by
# accept) exactly one per client, and closed them all before it exits.
# Seeds 1..NET_SEEDS are run; with faults, further seeds (up to 8) while no trace has shown a
# fault (call sites are active for about half the seeds).
# Environment (all optional): NET_FAMILY ipv4|ipv6|unix (default ipv4), NET_SEEDS (3),
# NET_CLIENTS (3, run at once), NET_MESSAGES (150 per client), NET_TIMEOUT_MS (1000: a client's
# longest wait for progress), NET_IDLE_MS (5000: the server gives up after this long without any
# event). Exit 0 pass, 1 fail, 2 usage, 77 skip (the family is not available here).
set -u
usage() {
    echo "usage: run_net.sh clean|benign|faulty|both|both-benign TOOL SERVER CLIENT [FAULTS]" >&2
    exit 2
}
if [ $# -lt 4 ] || [ $# -gt 5 ]; then usage; fi
mode=$1 tool=$2 server=$3 client=$4 faults=${5:-}
family=${NET_FAMILY:-ipv4}
seeds=${NET_SEEDS:-3}
clients=${NET_CLIENTS:-3}
messages=${NET_MESSAGES:-150}
timeout_ms=${NET_TIMEOUT_MS:-1000}
idle_ms=${NET_IDLE_MS:-5000}
# strict: every message must come back intact; simulated_clients: the clients under the shim too.
strict=1 simulated_clients=0
case "$mode" in
clean) [ -z "$faults" ] || usage ;;
benign) [ -n "$faults" ] || usage ;;
faulty) [ -n "$faults" ] || usage; strict=0 ;;
both) simulated_clients=1; [ -n "$faults" ] && strict=0 ;;
both-benign) [ -n "$faults" ] || usage; simulated_clients=1 ;;
*) usage ;;
esac
case "$family" in ipv4 | ipv6 | unix) ;; *) echo "run_net.sh: unknown NET_FAMILY $family" >&2; exit 2 ;; esac
need_fault=0
[ -n "$faults" ] && need_fault=1
shim_faults="time.external_wall=on${faults:+,$faults}"

work=$(mktemp -d /tmp/moonshim-net-XXXXXX)
# Every process this script starts runs under timeout(1), which puts itself and everything below
# it (the tool, the simulated program) in a process group of its own and, when it is signalled,
# passes the signal on to that whole group: killing the timeout process by its id leaves nothing
# running. The waits are bounded twice: by the timeouts, and by the server's own idle limit.
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.err "$work"/*.out; do
        [ -s "$f" ] && { echo "--- ${f##*/}" >&2; tail -5 "$f" >&2; }
    done
    exit 1
}

# field NAME LINE: the number after the word NAME in LINE (0 when absent).
field() {
    local want=$1 i words
    read -ra words <<<"$2"
    for ((i = 0; i + 1 < ${#words[@]}; i += 2)); do
        [ "${words[i]}" = "$want" ] && { echo "${words[i + 1]}"; return; }
    done
    echo 0
}

faults_seen=0
summary=""
run_seed() {
    local seed=$1 endpoint target i status line verdict client_pids=()
    local sent=0 received=0 passed=0 detected=0
    rm -f "$work"/*
    case "$family" in
    ipv4 | ipv6) endpoint=$family ;;
    unix) endpoint="unix:$work/echo.sock" ;;
    esac
    timeout -k 5 120 "$tool" exec --seed "$seed" --trace "$work/server.trace" \
        --faults "$shim_faults" -- "$server" "$endpoint" "$clients" "$idle_ms" \
        >"$work/server.out" 2>"$work/server.err" </dev/null &
    local server_pid=$!
    pids=("$server_pid")
    for _ in $(seq 1 100); do
        [ -s "$work/server.out" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    line=$(head -n 1 "$work/server.out" 2>/dev/null)
    if [ "$line" = skip ]; then
        echo "SKIP: $(head -n 1 "$work/server.err")"
        exit 77
    fi
    [ -n "$line" ] || fail "seed $seed: the server printed no endpoint within 10 s"
    case "$family" in
    ipv4) target="127.0.0.1:$line" ;;
    ipv6) target="[::1]:$line" ;;
    unix) target="unix:$line" ;;
    esac

    for i in $(seq 1 "$clients"); do
        if [ $simulated_clients -eq 1 ]; then
            timeout -k 5 90 "$tool" exec --quiet --seed "$((seed * 1000 + i))" \
                --trace "$work/client$i.trace" --faults "$shim_faults" -- \
                "$client" "$target" "$messages" "$i" "$timeout_ms" \
                >"$work/client$i.out" 2>"$work/client$i.err" </dev/null &
        else
            timeout -k 5 90 "$client" "$target" "$messages" "$i" "$timeout_ms" \
                >"$work/client$i.out" 2>"$work/client$i.err" </dev/null &
        fi
        client_pids+=($!)
        pids+=($!)
    done
    for i in $(seq 1 "$clients"); do
        wait "${client_pids[$((i - 1))]}"
        status=$?
        verdict=$(grep '^verdict:' "$work/client$i.out")
        line=$(head -n 1 "$work/client$i.out")
        if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then fail "seed $seed: client $i hung"; fi
        if [ $simulated_clients -eq 1 ]; then
            # The tool says 1 for any failing exit: the client's own verdict tells 2 from 1.
            case "$verdict" in
            "verdict: pass") status=0 ;;
            "verdict: detected") status=2 ;;
            "verdict: WRONG"*) status=1 ;;
            *) fail "seed $seed: client $i (under the shim) gave no verdict (tool exit $status)" ;;
            esac
        fi
        case "$status" in
        0) passed=$((passed + 1)) ;;
        2) [ $strict -eq 0 ] || fail "seed $seed: client $i lost messages (none may be lost here): $line"
           detected=$((detected + 1)) ;;
        1) fail "seed $seed: client $i accepted something wrong: $line $verdict" ;;
        *) fail "seed $seed: client $i exited $status" ;;
        esac
        sent=$((sent + $(field sent "$line")))
        received=$((received + $(field received "$line")))
    done

    wait "$server_pid"
    status=$?
    pids=()
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then fail "seed $seed: the server did not exit"; fi
    [ "$status" -eq 0 ] || fail "seed $seed: the server (under the tool) exited $status"
    tail -n 1 "$work/server.trace" | grep -q '"end":"exit"' || fail "seed $seed: trace has no end line"
    line=$(sed -n 2p "$work/server.out")
    local over accepted aborted bytes_in bytes_out
    over=$(field clients "$line") accepted=$(field accepted "$line") aborted=$(field aborted "$line")
    bytes_in=$(field in "$line") bytes_out=$(field out "$line")
    [ "$over" -eq "$clients" ] || fail "seed $seed: the server counted $over clients over, not $clients"
    [ $((accepted + aborted)) -eq "$clients" ] ||
        fail "seed $seed: $clients clients connected once each, but the server accepted $accepted and saw $aborted aborted"
    if [ $strict -eq 1 ]; then
        if [ "$bytes_in" -ne "$sent" ] || [ "$bytes_out" -ne "$sent" ] || [ "$received" -ne "$sent" ]; then
            fail "seed $seed: clients sent $sent and got $received back; the server read $bytes_in, wrote $bytes_out"
        fi
    else
        # Nothing is invented: the server reads at most what was sent, echoes at most what it read.
        if [ "$bytes_in" -gt "$sent" ] || [ "$bytes_out" -gt "$bytes_in" ]; then
            fail "seed $seed: clients sent $sent; the server read $bytes_in, wrote $bytes_out"
        fi
    fi
    if cat "$work"/*.trace | grep -q '"fault":'; then
        [ $need_fault -eq 1 ] || fail "seed $seed: a fault without FAULTS"
        faults_seen=$((faults_seen + 1))
    fi
    local kinds
    kinds=$(cat "$work"/*.trace | grep -o '"fault":"[a-z_]*"' | sort | uniq -c |
            awk '{gsub(/"fault":|"/, "", $2); printf "%s%s %s", sep, $2, $1; sep=", "}')
    summary="$summary
seed $seed: $passed clients all ok, $detected saw failures (each one detected); sent $sent, echoed $received; server: $line${kinds:+; faults: $kinds}"
}

last=$seeds
[ $need_fault -eq 1 ] && [ "$last" -lt 8 ] && last=8
for seed in $(seq 1 "$last"); do
    [ "$seed" -gt "$seeds" ] && [ $faults_seen -gt 0 ] && break
    run_seed "$seed"
done
[ $need_fault -eq 0 ] || [ $faults_seen -gt 0 ] || fail "no trace showed a fault (seeds 1..$last)"
echo "ok: $mode $family${faults:+ ($faults)}$summary"
