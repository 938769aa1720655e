#!/usr/bin/env bash
# Stop what deploy/start.sh started: SIGTERM to start.sh (it stops nginx and every Streamlit process and waits
# for them). If start.sh itself is gone, stop the processes it recorded.
#
#   bash deploy/stop.sh            # the set-up listening on port 8080
#   bash deploy/stop.sh 9000       # the one on port 9000
#   bash deploy/stop.sh /path/dir  # the one whose PLAYGROUND_RUN_DIR is /path/dir
set -euo pipefail

target="${1:-${PLAYGROUND_LISTEN_PORT:-8080}}"
if [[ -d "$target" ]]; then
    RUN_DIR="$target"
else
    RUN_DIR="${PLAYGROUND_RUN_DIR:-${TMPDIR:-/tmp}/playground-deploy-$target}"
fi
[[ -d "$RUN_DIR" ]] || { echo "[stop] no run directory $RUN_DIR: nothing to stop"; exit 0; }

alive() { kill -0 "$1" 2>/dev/null; }

# A pid from a pid file, only if that process still runs the program we expect (pids get reused).
pid_of() {
    local file="$1" want="$2" pid
    [[ -f "$file" ]] || return 1
    pid="$(tr -dc '0-9' <"$file")"
    [[ -n "$pid" ]] && alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$want" || return 1
    echo "$pid"
}

if start_pid="$(pid_of "$RUN_DIR/start.pid" start.sh)"; then
    echo "[stop] stopping start.sh (pid $start_pid) in $RUN_DIR ..."
    kill -TERM "$start_pid"
    for _ in $(seq 300); do
        alive "$start_pid" || { echo "[stop] stopped"; exit 0; }
        sleep 0.1
    done
    echo "[stop] start.sh did not stop in 30 s; stopping its processes directly" >&2
fi

found=0
for file in "$RUN_DIR"/nginx-master.pid "$RUN_DIR"/streamlit-*.pid; do
    want=streamlit
    [[ "$file" == */nginx-master.pid ]] && want=nginx
    if pid="$(pid_of "$file" "$want")"; then
        found=1
        echo "[stop] stopping $want (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 150); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
done
[[ $found -eq 1 ]] && echo "[stop] stopped" || echo "[stop] nothing was running in $RUN_DIR"
rm -f "$RUN_DIR/ready" "$RUN_DIR/start.pid"
