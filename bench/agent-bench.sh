#!/usr/bin/env bash
# Outpost agent benchmark: cold start to "ready", idle RSS, durable offline throughput.
# Usage: bash bench/agent-bench.sh [RUNS] [COMMANDS]   (defaults 5 and 5000)
# Needs a built agent (mvn -B -DskipTests package). Uses only loopback-free local runs and temp dirs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
n=${2:-5000}
[ -f bndrun/target/outpost.jar ] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
work=$(mktemp -d /tmp/outpost-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
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

first=() warm=() rss=()
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

echo "Outpost agent benchmark ($(nproc) cores, $(java -version 2>&1 | head -1), launcher flags of bin/outpost)"
printf '  start to ready, fresh data dir (median of %d): %s ms   [%s]\n' "$runs" "$(printf '%s\n' "${first[@]}" | median)" "${first[*]}"
printf '  start to ready, warm data dir  (median of %d): %s ms   [%s]\n' "$runs" "$(printf '%s\n' "${warm[@]}" | median)" "${warm[*]}"
printf '  idle RSS 10 s after ready: %d MB (peak %d MB)\n' "$((rss_kb / 1024))" "$((hwm_kb / 1024))"
printf '  offline durable agent.ping, %d commands (median of 3): %s commands/s   [%s]; %d succeeded\n' \
    "$n" "$(printf '%s\n' "${tput[@]}" | median)" "${tput[*]}" "$ok"
