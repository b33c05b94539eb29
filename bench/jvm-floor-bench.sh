#!/usr/bin/env bash
# The floor under the agent's idle RSS: the same JVM with the agent's own options (read from a running agent's
# command line), doing only one thing each and then idling, beside the agent itself, interleaved in one run:
#   JVM idle; + one TLS connection to the reference server; + the JDK HttpClient's enrolment and WebSocket to it
#   (what the agent's transport uses); the agent connected over TLS (WebSocket). Each has its own class-data archive
#   (written by a first run, mapped by the measured ones), as the agent does. RSS 25 s after start or connect.
# Usage: bash bench/jvm-floor-bench.sh [ROUNDS]   (default 3)
# Needs a built agent and server (mvn -B -DskipTests package) and a JDK (javac). Temp dirs and loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
if [ ! -f bndrun/target/outpost.jar ] || [ ! -f server/target/outpost-server.jar ]; then
    echo "build first: mvn -B -DskipTests package" >&2; exit 2
fi
command -v javac > /dev/null || { echo "needs a JDK's javac" >&2; exit 2; }
work=$(mktemp -d /tmp/outpost-floor-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
javac -d "$work/classes" bench/floor/JvmFloor.java

bin/outpost-server --data-dir "$work/server" --port 0 --bind 127.0.0.1 --log-level WARNING > "$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$work/server/server.url" ] && break; sleep 0.1; done
[ -s "$work/server/server.url" ] || { echo "the reference server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
url=$(cat "$work/server/server.url") ca=$work/server/ca.pem token=$(cat "$work/server/enrollment.token")
cat > "$work/agent.json" <<JSON
{"server_url": "$url", "server_ca": "$ca", "enrollment_token": "$token"}
JSON
ctl() { bin/outpostctl --server-dir "$work/server" "$@"; }
connected() { ctl agents 2>/dev/null | grep -q '"connected": true'; }

rss() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
agent() { # prints the connected agent's RSS; the first call also leaves its JVM options in $work/jvm-options
    local pid
    bin/outpost run --config "$work/agent.json" --data-dir "$work/agent" > "$work/agent.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do connected && break; sleep 0.2; done
    connected || { echo "the agent did not connect:" >&2; cat "$work/agent.log" >&2; exit 1; }
    # its JVM options, without its own archive and system properties: those before -jar
    tr '\0' '\n' < "/proc/$pid/cmdline" | sed -n '2,/^-jar$/p' | grep -v -e '^-jar$' -e '^-D' -e '^-XX:SharedArchiveFile' \
        -e '^-XX:ArchiveClassesAtExit' > "$work/jvm-options"
    sleep 25
    rss "$pid"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do connected || break; sleep 0.2; done
}
floor() { # $1 what, $2 archive option; prints its RSS
    local pid opts
    mapfile -t opts < "$work/jvm-options"
    java "${opts[@]}" "$2" -cp "$work/classes" JvmFloor "$1" "$url" "$ca" "$token" > "$work/$1.out" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do grep -qs '^ready' "$work/$1.out" && break; sleep 0.1; done
    grep -qs '^ready' "$work/$1.out" || { echo "floor $1 did not get ready:" >&2; cat "$work/$1.out" >&2; exit 1; }
    sleep 25
    rss "$pid"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}
agent > /dev/null # the agent's first start writes its class-data archive, and tells its JVM options
for f in idle tls websocket; do # each floor's own archive, written at its exit
    java $(cat "$work/jvm-options") "-XX:ArchiveClassesAtExit=$work/$f.jsa" -cp "$work/classes" JvmFloor "$f" "$url" "$ca" \
        "$token" > "$work/$f.out" 2>&1 &
    p=$!
    for _ in $(seq 1 300); do grep -qs '^ready' "$work/$f.out" && break; sleep 0.1; done
    kill "$p"; wait "$p" 2>/dev/null || true
done
echo "Outpost idle RSS and the JVM's floor under it, $rounds interleaved rounds ($(nproc) cores, $(java -version 2>&1 | head -1))"
echo "  JVM options (the agent's): $(tr '\n' ' ' < "$work/jvm-options")"
for _ in $(seq 1 "$rounds"); do
    for f in idle tls websocket; do echo "$f $(floor "$f" "-XX:SharedArchiveFile=$work/$f.jsa")"; done
    echo "agent $(agent)"
done | awk '{n[$1]++; r[$1] += $2; all[$1] = all[$1] " " $2; if (!($1 in seen)) {seen[$1] = 1; order[++k] = $1}}
    END {
        label["idle"] = "JVM, idle"; label["tls"] = "+ one TLS connection"
        label["websocket"] = "+ HttpClient enrolment and WebSocket"; label["agent"] = "the agent, connected"
        for (i = 1; i <= k; i++) {v = order[i]; printf "  %-38s %5.1f MB   [%s ]\n", label[v], r[v] / n[v], all[v]}
    }'
