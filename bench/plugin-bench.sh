#!/usr/bin/env bash
# Outpost plugin benchmark, on loopback with real TLS: a server and an agent, then plugin.echo pushed through the
# server: time from plugin.install sent to the first successful echo.say, and from plugin.upgrade sent to the first
# echo.say answered by the new version (targets: ≤ 1 s each).
# Usage: bash bench/plugin-bench.sh [ROUNDS]   (default 5; build first: mvn -B -DskipTests package)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
jar=$(ls plugin.echo/target/plugin.echo-*.jar 2>/dev/null | head -1)
[ -f bndrun/target/outpost.jar ] && [ -f server/target/outpost-server.jar ] && [ -n "$jar" ] \
    || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
work=$(mktemp -d /tmp/outpost-plugin-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

bin/outpost-server --data-dir "$work/server" --port 0 --bind 127.0.0.1 --log-level WARNING > "$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$work/server/server.url" ] && break; sleep 0.1; done
cat > "$work/agent.json" <<JSON
{"server_url": "$(cat "$work/server/server.url")", "server_ca": "$work/server/ca.pem",
 "enrollment_token": "$(cat "$work/server/enrollment.token")", "log_level": "warn"}
JSON
bin/outpost run --config "$work/agent.json" --data-dir "$work/agent" > "$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do bin/outpostctl --server-dir "$work/server" agents 2>/dev/null | grep -q '"connected": true' && break; sleep 0.2; done
echo "Outpost plugin benchmark ($(nproc) cores, loopback, TLS, $(basename "$jar"))"
java -cp server/target/outpost-server.jar server.bench.PluginRoundTrip "$work/server" "$jar" echo.say "$rounds" | sed 's/^/  /'
