#!/usr/bin/env bash
# Outpost agent benchmark: cold start to "ready", idle RSS, durable offline throughput, a one-shot run's peak RSS;
# then connected over TLS (WebSocket) to a reference server on loopback: idle RSS and CPU with its breakdown, and
# what each plugin of the default runtime costs once its first command has activated it (before that, Declarative
# Services has neither activated its handlers nor loaded their classes).
# Usage: bash bench/agent-bench.sh [RUNS] [COMMANDS]   (defaults 5 and 5000)
# Needs a built agent and server (mvn -B -DskipTests package) and /usr/bin/time. Temp dirs and loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
n=${2:-5000}
if [ ! -f bndrun/target/outpost.jar ] || [ ! -f server/target/outpost-server.jar ]; then
    echo "build first: mvn -B -DskipTests package" >&2; exit 2
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
work=$(mktemp -d /tmp/outpost-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cfg=$work/config.json
# managed mode needs a server URL; nothing listens there and nothing is contacted before "ready"
echo '{"server_url": "https://127.0.0.1:9"}' > "$cfg"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

# start the agent in managed mode and wait for "ready"; sets $pid and $ready_ms (measured by the agent)
start_until_ready() { # $1 data dir, $2 log file
    bin/outpost run --config "$cfg" --data-dir "$1" 2> "$2" > /dev/null &
    pid=$!
    for _ in $(seq 1 300); do
        grep -q " ready: " "$2" 2>/dev/null && break
        sleep 0.02
    done
    ready_ms=$(grep -o '[0-9]* ms after launch' "$2" | awk '{print $1}')
    [ -n "$ready_ms" ] || { echo "agent did not get ready; log:" >&2; cat "$2" >&2; exit 1; }
}

first=() warm=() oneshot_wall=()
for i in $(seq 1 "$runs"); do
    d=$work/data-$i
    start_until_ready "$d" "$work/first-$i.log"
    first+=("$ready_ms")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    start_until_ready "$d" "$work/warm-$i.log"
    warm+=("$ready_ms")
    if [ "$i" = "$runs" ]; then
        sleep 10 # idle: let start-up garbage and JIT settle
        rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
        hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
done

tasks=$work/tasks.json
{
    echo '{"commands": ['
    for i in $(seq 1 "$n"); do
        printf '{"id": "bench-%08d-0000-4000-8000-000000000000", "action": "agent.ping", "params": {"echo": %d}}' "$i" "$i"
        [ "$i" -lt "$n" ] && echo ','
    done
    echo ']}'
} > "$tasks"
tput=()
for i in $(seq 1 3); do
    bin/outpost offline --tasks "$tasks" --report "$work/report.json" --data-dir "$work/offline-$i" 2> "$work/offline-$i.log"
    tput+=("$(grep -o '([0-9]* commands/s)' "$work/offline-$i.log" | tr -d '(' | awk '{print $1}')")
done
ok=$(grep -c '"status": "succeeded"' "$work/report.json")

# a one-shot offline agent.ping in a warm data dir: the whole process's peak RSS (what a cron job costs)
printf '{"commands": [{"id": "bench-once-%04d-4000-8000-000000000000", "action": "agent.ping"}]}' 0 > "$work/one.json"
bin/outpost offline --tasks "$work/one.json" --report "$work/one-report.json" --data-dir "$work/once" 2> /dev/null
oneshot=()
for i in $(seq 1 "$runs"); do
    printf '{"commands": [{"id": "bench-once-%04d-4000-8000-000000000000", "action": "agent.ping"}]}' "$i" > "$work/one.json"
    /usr/bin/time -f '%M %e' -o "$work/time.txt" bin/outpost offline --tasks "$work/one.json" --report "$work/one-report.json" \
        --data-dir "$work/once" 2> /dev/null
    oneshot+=("$(awk '{print $1}' "$work/time.txt")")
    oneshot_wall+=("$(awk '{print int($2 * 1000)}' "$work/time.txt")")
done

# connected: a reference server on loopback, the agent over TLS (WebSocket), measured on its second start
bin/outpost-server --data-dir "$work/server" --port 0 --bind 127.0.0.1 --log-level WARNING > "$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$work/server/server.url" ] && break; sleep 0.1; done
[ -s "$work/server/server.url" ] || { echo "the reference server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
cat > "$work/agent.json" <<JSON
{"server_url": "$(cat "$work/server/server.url")", "server_ca": "$work/server/ca.pem",
 "enrollment_token": "$(cat "$work/server/enrollment.token")"}
JSON
ctl() { bin/outpostctl --server-dir "$work/server" "$@"; }
connected_agent() { # starts the agent and waits until the server lists it connected; sets $pid
    bin/outpost run --config "$work/agent.json" --data-dir "$work/connected" > "$work/connected.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 1 300); do ctl agents 2>/dev/null | grep -q '"connected": true' && return 0; sleep 0.2; done
    echo "the agent did not connect:" >&2; cat "$work/connected.log" >&2; exit 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
connected_agent
kill "$pid"; wait "$pid" 2>/dev/null || true
connected_agent
agent_id=$(ctl agents | grep -o '"agentId": "[^"]*"' | head -1 | cut -d'"' -f4)
sleep 20 # idle after connecting: start-up garbage collected, JIT settled
t0=$(cpu_ticks "$pid")
sleep 30
idle_cpu=$(awk -v t="$(( $(cpu_ticks "$pid") - t0 ))" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", 100 * t / hz / 30}')
conn_rss=$(rss_mb "$pid")
read -r anon file < <(awk '/^Rss:/ {r=$2} /^Anonymous:/ {a=$2} END {printf "%.1f %.1f\n", a/1024, (r-a)/1024}' "/proc/$pid/smaps_rollup")
cds=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {jsa = ($NF ~ /\.jsa$/)} jsa && /^Rss:/ {s += $2} END {printf "%.1f", s / 1024}' "/proc/$pid/smaps")
heap=$(jcmd "$pid" GC.heap_info 2>/dev/null | grep -o 'total [0-9]*K' | tr -d K | awk '{s += $2} END {printf "%.1f", s / 1024}')
threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
# each plugin's first command activates its handlers: the RSS it adds, 10 s after its command
plugin_costs=()
before=$conn_rss
for action in health.report health.inventory disk.list dataset.list package.list file.stat; do
    params='{}'
    [ "$action" = file.stat ] && params='{"path": "/etc/hostname"}' # under the default allowed prefixes
    ctl send "$agent_id" "$action" "$params" --wait 60 > "$work/$action.out" 2>&1 || { echo "$action failed:" >&2; cat "$work/$action.out" >&2; exit 1; }
    sleep 10
    now=$(rss_mb "$pid")
    plugin_costs+=("$action +$(awk -v a="$now" -v b="$before" 'BEGIN {printf "%.1f", a - b}') MB")
    before=$now
done

echo "Outpost agent benchmark ($(nproc) cores, $(java -version 2>&1 | head -1), launcher flags of bin/outpost)"
printf '  start to ready, fresh data dir (median of %d): %s ms   [%s]\n' "$runs" "$(printf '%s\n' "${first[@]}" | median)" "${first[*]}"
printf '  start to ready, warm data dir  (median of %d): %s ms   [%s]\n' "$runs" "$(printf '%s\n' "${warm[@]}" | median)" "${warm[*]}"
printf '  idle RSS 10 s after ready: %d MB (peak %d MB)\n' "$((rss_kb / 1024))" "$((hwm_kb / 1024))"
printf '  one-shot offline agent.ping, warm data dir (median of %d): peak RSS %d MB, wall %s ms\n' "$runs" \
    "$(( $(printf '%s\n' "${oneshot[@]}" | median) / 1024 ))" "$(printf '%s\n' "${oneshot_wall[@]}" | median)"
printf '  connected over TLS (WebSocket), idle 20 s after connecting, second start: RSS %s MB, CPU %s %% of a core (30 s)\n' \
    "$conn_rss" "$idle_cpu"
# the class-data archives are mapped privately: the pages the JVM writes to count as anonymous, the rest as file-backed
printf '    breakdown: anonymous %s MB (Java heap committed %s MB), file-backed %s MB; class-data archives %s MB of both; %s threads\n' \
    "$anon" "${heap:-?}" "$file" "$cds" "$threads"
printf '    first command of each plugin, RSS added: %s\n' "$(IFS=';'; echo "${plugin_costs[*]}")"
printf '  offline durable agent.ping, %d commands (median of 3): %s commands/s   [%s]; %d succeeded\n' \
    "$n" "$(printf '%s\n' "${tput[@]}" | median)" "${tput[*]}" "$ok"
