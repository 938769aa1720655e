#!/usr/bin/env bash
# The classroom set-up in one command: K Streamlit processes of the playground (one per core) behind nginx,
# sticky sessions by cookie, websockets proxied. Runs in the foreground; Ctrl-C or SIGTERM stops everything
# (deploy/stop.sh does it from another shell). A process that dies is restarted.
#
#   bash deploy/start.sh                          # one process per core; nginx on 0.0.0.0:8080
#   bash deploy/start.sh --processes 4 --port 9000 --listen 127.0.0.1
#
# Settings (flags win over the environment):
#   --processes N  PLAYGROUND_PROCESSES   Streamlit processes (default: the number of cores)
#   --port P       PLAYGROUND_LISTEN_PORT port nginx listens on (default 8080)
#   --listen ADDR  PLAYGROUND_LISTEN_ADDR address nginx listens on (default 0.0.0.0: the classroom's network)
#   --base-port B  PLAYGROUND_BASE_PORT   the processes listen on 127.0.0.1:B .. B+N-1 (default 8501)
#   --run-dir D    PLAYGROUND_RUN_DIR     logs, pid files, rendered nginx.conf (default /tmp/playground-deploy-P)
#   --app FILE     PLAYGROUND_APP         the Streamlit script, relative to the repository root (default app.py)
#   --recycle-idle S  PLAYGROUND_RECYCLE_IDLE_S  a process with no student connected for S seconds whose memory grew
#                  stops and a fresh one replaces it, so memory returns to its baseline after a class (default 300;
#                  0: never; PLAYGROUND_RECYCLE_GROWTH_MB, default 16, is the growth it needs; see server/recycle.py)
#                  PYTHON, NGINX          the interpreter and nginx to use (default: python / nginx on PATH)
#                  STREAMLIT_SERVER_COOKIE_SECRET  shared by all processes (default: a random one per start)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

PROCESSES="${PLAYGROUND_PROCESSES:-$(nproc 2>/dev/null || echo 2)}"
LISTEN_PORT="${PLAYGROUND_LISTEN_PORT:-8080}"
LISTEN_ADDR="${PLAYGROUND_LISTEN_ADDR:-0.0.0.0}"
BASE_PORT="${PLAYGROUND_BASE_PORT:-8501}"
RUN_DIR="${PLAYGROUND_RUN_DIR:-}"
APP="${PLAYGROUND_APP:-app.py}"
PYTHON="${PYTHON:-python}"
RECYCLE_IDLE="${PLAYGROUND_RECYCLE_IDLE_S:-300}"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --processes) PROCESSES="$2"; shift 2 ;;
        --port) LISTEN_PORT="$2"; shift 2 ;;
        --listen) LISTEN_ADDR="$2"; shift 2 ;;
        --base-port) BASE_PORT="$2"; shift 2 ;;
        --run-dir) RUN_DIR="$2"; shift 2 ;;
        --app) APP="$2"; shift 2 ;;
        --recycle-idle) RECYCLE_IDLE="$2"; shift 2 ;;
        -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "start.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
RUN_DIR="${RUN_DIR:-${TMPDIR:-/tmp}/playground-deploy-$LISTEN_PORT}"

log() { echo "[deploy $(date +%H:%M:%S)] $*"; }
die() { echo "[deploy] ERROR: $*" >&2; exit 1; }

[[ "$PROCESSES" =~ ^[1-9][0-9]*$ ]] || die "--processes must be a positive whole number, not '$PROCESSES'"
[[ "$RECYCLE_IDLE" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--recycle-idle must be a number of seconds, not '$RECYCLE_IDLE'"
[[ "$RECYCLE_IDLE" =~ ^0+([.]0+)?$ ]] && RECYCLE_IDLE=0
[[ -f "$APP" ]] || die "no Streamlit script '$APP' in $REPO_ROOT"
NGINX="${NGINX:-$(command -v nginx || true)}"
if [[ -z "$NGINX" && -x /usr/sbin/nginx ]]; then NGINX=/usr/sbin/nginx; fi
[[ -n "$NGINX" ]] || die "nginx is not installed: run 'bash scripts/install_nginx.sh' (Debian: apt-get install nginx)"
command -v "$PYTHON" >/dev/null || die "no Python interpreter '$PYTHON'"

mkdir -p "$RUN_DIR"
if [[ -f "$RUN_DIR/start.pid" ]] && kill -0 "$(cat "$RUN_DIR/start.pid")" 2>/dev/null; then
    die "already running (pid $(cat "$RUN_DIR/start.pid"), $RUN_DIR); stop it with: bash deploy/stop.sh $LISTEN_PORT"
fi
rm -f "$RUN_DIR"/ready "$RUN_DIR"/*.pid "$RUN_DIR"/nginx.conf
mkdir -p "$RUN_DIR"/tmp/{client_body,proxy,fastcgi,uwsgi,scgi}
echo $$ >"$RUN_DIR/start.pid"

# Every process must accept the cookies another one signed (a reconnect may land elsewhere after a failure).
if [[ -z "${STREAMLIT_SERVER_COOKIE_SECRET:-}" ]]; then
    STREAMLIT_SERVER_COOKIE_SECRET="$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')"
fi
export STREAMLIT_SERVER_COOKIE_SECRET
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1  # tiny tensors, many sessions: one thread each (docs/architecture.md)
export PLAYGROUND_RECYCLE_IDLE_S="$RECYCLE_IDLE"  # read by server/recycle.py in every process

declare -A BACKEND_PID RESTARTS UNHEALTHY WARM_PID STARTED_AT
NGINX_PID=""
STOPPING=0

port_of() { echo $((BASE_PORT + $1)); }

# GET /_stcore/health on 127.0.0.1:PORT with bash's /dev/tcp (no curl needed); true when it answers "ok".
health() {
    local body
    { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'GET /_stcore/health HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$1" >&9
    body="$(timeout 5 cat <&9)" || body=""
    exec 9<&-
    [[ "$body" == *$'\r\n\r\nok' ]]
}

start_backend() {
    local port
    port="$(port_of "$1")"
    "$PYTHON" -m streamlit run "$APP" \
        --server.port "$port" \
        --server.address 127.0.0.1 \
        --server.headless true \
        --browser.gatherUsageStats false \
        >>"$RUN_DIR/streamlit-$port.log" 2>&1 &
    BACKEND_PID[$1]=$!
    STARTED_AT[$1]=$SECONDS
    echo "${BACKEND_PID[$1]}" >"$RUN_DIR/streamlit-$port.pid"
    UNHEALTHY[$1]=0
    log "streamlit process $1 on 127.0.0.1:$port (pid ${BACKEND_PID[$1]}, log $RUN_DIR/streamlit-$port.log)"
}

cleanup() {
    local rc=$?
    [[ $STOPPING -eq 1 ]] && return
    STOPPING=1
    trap - INT TERM EXIT
    log "stopping ..."
    rm -f "$RUN_DIR/ready"
    local pids=()
    [[ -n "$NGINX_PID" ]] && pids+=("$NGINX_PID")
    for i in "${!BACKEND_PID[@]}"; do pids+=("${BACKEND_PID[$i]}"); done
    for i in "${!WARM_PID[@]}"; do pids+=("${WARM_PID[$i]}"); done
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 150); do  # up to 15 s for a clean exit
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [[ $alive -eq 0 ]] && break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -f "$RUN_DIR"/*.pid
    log "stopped"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for ((i = 0; i < PROCESSES; i++)); do start_backend "$i"; done

log "waiting for /_stcore/health on every process ..."
deadline=$((SECONDS + 180))
for ((i = 0; i < PROCESSES; i++)); do
    port="$(port_of "$i")"
    until health "$port"; do
        if ! kill -0 "${BACKEND_PID[$i]}" 2>/dev/null; then
            tail -n 30 "$RUN_DIR/streamlit-$port.log" >&2 || true
            die "streamlit process $i (port $port) exited during start-up; its log is above"
        fi
        ((SECONDS < deadline)) || die "streamlit process $i (port $port) not healthy after 180 s"
        sleep 0.5
    done
done

# Streamlit runs the app (torch import, the app's own warm-up) only when a first session opens: do it now.
ports=()
for ((i = 0; i < PROCESSES; i++)); do ports+=("$(port_of "$i")"); done
log "warming up every process (one page load each) ..."
"$PYTHON" "$REPO_ROOT/deploy/warm_up.py" "${ports[@]}" ||
    log "warning: the warm-up failed (above); the first students will wait longer, or see the same error"

# Render nginx.conf: one upstream server per process.
upstreams=""
for ((i = 0; i < PROCESSES; i++)); do
    upstreams+="        server 127.0.0.1:$(port_of "$i") max_fails=2 fail_timeout=10s;"$'\n'
done
user_line="# (not root: the workers run as this user)"
if [[ $EUID -eq 0 ]]; then
    user_line="user nobody nogroup;"
    chown -R nobody:nogroup "$RUN_DIR/tmp" 2>/dev/null || user_line="user root;"
fi
conf="$(<"$REPO_ROOT/deploy/nginx.conf.template")"
conf="${conf//@@RUN_DIR@@/$RUN_DIR}"
conf="${conf//@@LISTEN@@/$LISTEN_ADDR:$LISTEN_PORT}"
conf="${conf//@@USER_LINE@@/$user_line}"
conf="${conf//@@UPSTREAM_SERVERS@@/${upstreams%$'\n'}}"
printf '%s\n' "$conf" >"$RUN_DIR/nginx.conf"

NGINX_ARGS=(-p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log")
"$NGINX" "${NGINX_ARGS[@]}" -t -q || die "nginx rejected $RUN_DIR/nginx.conf (see above)"
"$NGINX" "${NGINX_ARGS[@]}" -g "daemon off;" &
NGINX_PID=$!
echo "$NGINX_PID" >"$RUN_DIR/nginx-master.pid"

until health "$LISTEN_PORT"; do
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited; see $RUN_DIR/nginx-error.log"
    for ((i = 0; i < PROCESSES; i++)); do
        if ! kill -0 "${BACKEND_PID[$i]}" 2>/dev/null; then
            tail -n 30 "$RUN_DIR/streamlit-$(port_of "$i").log" >&2 || true
            die "streamlit process $i (port $(port_of "$i")) exited during start-up; its log is above"
        fi
    done
    ((SECONDS < deadline + 30)) || die "nginx does not answer on port $LISTEN_PORT"
    sleep 0.3
done
touch "$RUN_DIR/ready"
log "ready: http://$LISTEN_ADDR:$LISTEN_PORT/ -> $PROCESSES streamlit processes (ports $BASE_PORT-$(port_of $((PROCESSES - 1)))); run dir $RUN_DIR"
if [[ $RECYCLE_IDLE == 0 ]]; then
    log "recycling off: the processes keep the memory a class leaves"
else
    log "recycling: a process with no student connected for $RECYCLE_IDLE s is replaced by a fresh one"
fi
log "stop with Ctrl-C, or: bash deploy/stop.sh $LISTEN_PORT"

# A restarted process, warmed up in the background (health first, then one page load) while the loop goes on.
warm_up_later() {
    local port
    port="$(port_of "$1")"
    (
        for _ in $(seq 360); do health "$port" && break; sleep 0.5; done
        "$PYTHON" "$REPO_ROOT/deploy/warm_up.py" "$port" >>"$RUN_DIR/streamlit-$port.log" 2>&1 ||
            log "warning: warming up process $1 (port $port) after its restart failed (see its log)"
    ) &
    WARM_PID[$1]=$!
}

# Supervise: restart a process that stopped. One that exited with status 0 stopped itself after a class (server/recycle.py)
# and is replaced at once; one that died otherwise is restarted at most 5 times. Note one whose health check fails.
tick=0
while true; do
    sleep 2 &
    wait $! || true
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited; see $RUN_DIR/nginx-error.log"
    tick=$((tick + 1))
    for ((i = 0; i < PROCESSES; i++)); do
        port="$(port_of "$i")"
        if ! kill -0 "${BACKEND_PID[$i]}" 2>/dev/null; then
            status=0
            wait "${BACKEND_PID[$i]}" 2>/dev/null || status=$?
            # A self-stop needs at least the idle time of uptime; status 0 sooner is a failed start, and counts.
            if [[ $status -eq 0 && $RECYCLE_IDLE != 0 && $((SECONDS - STARTED_AT[$i])) -ge ${RECYCLE_IDLE%.*} ]]; then
                log "streamlit process $i (port $port) stopped itself (idle, memory grown); starting a fresh one"
            else
                RESTARTS[$i]=$((${RESTARTS[$i]:-0} + 1))
                ((RESTARTS[$i] <= 5)) || die "streamlit process $i (port $port) died 6 times; giving up"
                log "streamlit process $i (port $port) died (status $status); restarting (restart ${RESTARTS[$i]} of 5)"
            fi
            start_backend "$i"
            warm_up_later "$i"
        elif ((tick % 5 == 0)); then
            if health "$port"; then
                UNHEALTHY[$i]=0
            else
                UNHEALTHY[$i]=$((UNHEALTHY[$i] + 1))
                log "streamlit process $i (port $port): /_stcore/health failed ${UNHEALTHY[$i]} time(s) in a row"
            fi
        fi
    done
done
