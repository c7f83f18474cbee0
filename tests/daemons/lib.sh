# lib.sh: helpers the daemon tests source (not a test itself; recipe.sh does without it).
#   . "$(dirname "$0")/lib.sh"
# A test sets `tool` and `work` (a mktemp -d directory) and calls these. Each daemon runs under
# setsid(1), so it, the tool and everything the daemon forks form one process group of their own,
# named by the tool's pid: stop_group kills exactly that group, nothing else.
export LC_ALL=C

# need PROGRAM...: skip the test (77) unless every PROGRAM is installed.
need() {
    local program
    for program; do
        command -v "$program" >/dev/null 2>&1 || { echo "$program not installed: skipping"; exit 77; }
    done
}

# pick_port BASE: a port in [BASE, BASE+3000) derived from $$, the first nobody listens on. Keep
# BASE+3000 below 32768: ports from there on are the ephemeral ports clients connect from.
pick_port() {
    local port=$(($1 + $$ % 2900)) i
    for i in $(seq 0 99); do
        if ! (exec 9<>"/dev/tcp/127.0.0.1/$((port + i))") 2>/dev/null; then
            echo $((port + i))
            return 0
        fi
    done
    echo "$port"
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# alive PID: the process exists and is not a zombie.
alive() {
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    case $state in Z*) return 1 ;; esac
    return 0
}

# start_daemon LOG TOOL-ARGS...: `setsid TOOL-ARGS` in the background (stdout and stderr to LOG),
# its pid (the tool's, which is also the process group's id) in $daemon_pid.
daemon_pid=""
start_daemon() {
    local log=$1
    shift
    setsid "$@" >"$log" 2>&1 </dev/null &
    daemon_pid=$!
}

# wait_port PORT [TENTHS]: until the daemon accepts on PORT (0), or it died or TENTHS tenths of a
# second passed (1).
wait_port() {
    local i
    for i in $(seq 1 "${2:-100}"); do
        port_open "$1" && return 0
        alive "$daemon_pid" || return 1
        sleep 0.1
    done
    return 1
}

# wait_exit PID TENTHS: until PID is gone (0), or TENTHS tenths of a second passed (1).
wait_exit() {
    local i
    for i in $(seq 1 "$2"); do
        alive "$1" || return 0
        sleep 0.1
    done
    alive "$1" && return 1
    return 0
}

# stop_group: the daemon's whole process group gets SIGTERM (through the tool, which forwards it),
# then SIGKILL for whatever is left; reaps the tool. For the EXIT trap and between runs.
stop_group() {
    [ -n "$daemon_pid" ] || return 0
    if alive "$daemon_pid"; then
        kill -TERM "$daemon_pid" 2>/dev/null
        wait_exit "$daemon_pid" 30
    fi
    kill -KILL -- "-$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
    daemon_pid=""
}

# group_pids: the live processes still in the daemon's process group (one per line; zombies
# whose parent is gone are left out: they are dead, just not reaped).
group_pids() { ps -e -o pid=,pgid=,stat= | awk -v g="$daemon_pid" '$2 == g && $3 !~ /^Z/ {print $1}'; }

# proc_state PID: what a process is doing: its state, wchan, and the kernel stack when readable.
proc_state() {
    local pid=$1
    echo "  pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)): state $(ps -o stat= -p "$pid" 2>/dev/null)," \
         "wchan $(cat "/proc/$pid/wchan" 2>/dev/null); threads:"
    local task
    for task in /proc/"$pid"/task/*; do
        [ -d "$task" ] || continue
        echo "    tid ${task##*/} ($(cat "$task/comm" 2>/dev/null)): wchan $(cat "$task/wchan" 2>/dev/null)," \
             "syscall $(cut -d' ' -f1 "$task/syscall" 2>/dev/null)"
    done
}
