#!/usr/bin/env bash
# Outpost server benchmark, all on loopback:
#  1. a real agent connected over the WebSocket: round trip of agent.ping through the server (p50, p99; one
#     POST /api/v1/commands?wait each) and the throughput of durable commands over that one WebSocket (batches of
#     250 per POST, 4 in flight, each request waiting for its results);
#  2. N simulated agents (TLS WebSockets, heartbeats) held by one server, one command fanned out to all, time
#     until every result is stored.
# Usage: bash bench/server-bench.sh [AGENTS]   (default 5000; needs `ulimit -n` above 2 × AGENTS; 0 skips part 2)
set -euo pipefail
cd "$(dirname "$0")/.."
agents=${1:-5000}
[ -f bndrun/target/outpost.jar ] && [ -f server/target/outpost-server.jar ] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
work=$(mktemp -d /tmp/outpost-server-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
wait_for_url() { for _ in $(seq 1 300); do [ -s "$1/server.url" ] && return 0; sleep 0.1; done; echo "server did not start" >&2; exit 1; }

# thousands of simulated agents enrol from one address: the per-address enrolment limit is off for the bench
bin/outpost-server --data-dir "$work/server" --port 0 --bind 127.0.0.1 --log-level WARNING --enroll-per-minute 0 > "$work/server.log" 2>&1 &
pids+=($!)
wait_for_url "$work/server"
cat > "$work/agent.json" <<JSON
{"server_url": "$(cat "$work/server/server.url")", "server_ca": "$work/server/ca.pem",
 "enrollment_token": "$(cat "$work/server/enrollment.token")", "log_level": "warn"}
JSON
bin/outpost run --config "$work/agent.json" --data-dir "$work/agent" > "$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do bin/outpostctl --server-dir "$work/server" agents 2>/dev/null | grep -q '"connected": true' && break; sleep 0.2; done
echo "Outpost server benchmark ($(nproc) cores, loopback, TLS)"
# the load generator runs C1 only: its own JIT work would otherwise take CPU from the server and agent it measures
java -XX:TieredStopAtLevel=1 -cp server/target/outpost-server.jar server.bench.AgentRoundTrip "$work/server" 1000 5000 | sed 's/^/  /'
kill "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
[ "$agents" -gt 0 ] || exit 0

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
java -Xmx3g -cp server/target/outpost-server.jar server.bench.SimulatedAgents --server-dir "$work/server" \
    --agents "$agents" --fanout 2>"$work/sim.log" | sed 's/^/  simulated agents: /'
echo "  server RSS after the fan-out: $(( $(awk '/^VmRSS:/ {print $2}' /proc/$(pgrep -f "outpost-server.jar.*$work" | head -1)/status) / 1024 )) MB (peak $(( $(awk '/^VmHWM:/ {print $2}' /proc/$(pgrep -f "outpost-server.jar.*$work" | head -1)/status) / 1024 )) MB)"
