#!/usr/bin/env bash
# JVM options compared for the agent's idle RSS, interleaved in one run (this machine's speed and memory state drift):
# a reference server on loopback, the agent connected to it over TLS (WebSocket), started once per variant and round
# with OUTPOST_JAVA_OPTS set to the variant's options, measured 25 s after connecting (RSS and its anonymous part).
# Usage: bash bench/agent-options-bench.sh [ROUNDS] ["NAME=OPTIONS" ...]   (default 3 rounds; "base=" is always run)
#   e.g. bash bench/agent-options-bench.sh 3 "trim5s=-XX:TrimNativeHeapInterval=5000" "free20=-XX:MaxHeapFreeRatio=20"
# Needs a built agent and server (mvn -B -DskipTests package).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
variants=("base=" "$@")
if [ ! -f bndrun/target/outpost.jar ] || [ ! -f server/target/outpost-server.jar ]; then
    echo "build first: mvn -B -DskipTests package" >&2; exit 2
fi
work=$(mktemp -d /tmp/outpost-options-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bin/outpost-server --data-dir "$work/server" --port 0 --bind 127.0.0.1 --log-level WARNING > "$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$work/server/server.url" ] && break; sleep 0.1; done
[ -s "$work/server/server.url" ] || { echo "the reference server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
cat > "$work/agent.json" <<JSON
{"server_url": "$(cat "$work/server/server.url")", "server_ca": "$work/server/ca.pem",
 "enrollment_token": "$(cat "$work/server/enrollment.token")"}
JSON
ctl() { bin/outpostctl --server-dir "$work/server" "$@"; }
connected() { ctl agents 2>/dev/null | grep -q '"connected": true'; }
run_variant() { # $1 NAME=OPTIONS; prints NAME RSS_MB ANON_MB
    local name=${1%%=*} opts=${1#*=} pid rss anon
    OUTPOST_JAVA_OPTS="$opts" bin/outpost run --config "$work/agent.json" --data-dir "$work/agent" > "$work/agent.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do connected && break; sleep 0.2; done
    connected || { echo "variant $name: the agent did not connect:" >&2; cat "$work/agent.log" >&2; exit 1; }
    sleep 25
    rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
    anon=$(awk '/^Anonymous:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/smaps_rollup")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do connected || break; sleep 0.2; done
    echo "$name $rss $anon"
}
run_variant "warm-up=" > /dev/null # the first start writes the class-data archive
echo "Outpost agent options, idle RSS connected over TLS, $rounds interleaved rounds ($(nproc) cores)"
for _ in $(seq 1 "$rounds"); do
    for v in "${variants[@]}"; do run_variant "$v"; done
done | awk '{n[$1]++; r[$1] += $2; a[$1] += $3; if (!($1 in seen)) {seen[$1] = 1; order[++k] = $1}; runs[$1] = runs[$1] " " $2}
    END {for (i = 1; i <= k; i++) {v = order[i]; printf "  %-20s RSS %5.1f MB  anonymous %5.1f MB   [%s ]\n", v, r[v] / n[v], a[v] / n[v], runs[v]}}'
