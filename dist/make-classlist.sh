#!/usr/bin/env bash
# Writes dist/outpost.classlist: the JDK classes a connected agent loads, for `outpost cds` to build the static
# class-data archive from (README, "JVM options of the launcher"). The archive `outpost cds` would otherwise make
# comes from an offline run with no commands and holds none of the TLS and java.net.http classes (about 800) that a
# connected agent loads, so an installed agent would parse them at every start and keep them in its own memory.
#
# How: the reference server on loopback and an agent from this checkout connected to it over TLS (WebSocket) with
# -XX:DumpLoadedClassList; a few first commands (agent.ping, agent.info, plugin.list, health.report, disk.list) and
# the first periodic health event; then the agent is stopped. Kept are the classes of the JDK's own modules (boot and
# platform loaders) and the JDK's lambda-form lines: the agent's and the bundles' classes belong to the dynamic
# archive `outpost cds` writes on top, and would tie this file to one build of the jar.
#
# Usage: bash dist/make-classlist.sh [OUT]   (default dist/outpost.classlist; needs mvn -B -DskipTests package)
# Run it again when the agent's JDK use changes (a new transport, a new JDK feature used at start).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/outpost.classlist}
if [ ! -f bndrun/target/outpost.jar ] || [ ! -f server/target/outpost-server.jar ]; then
    echo "make-classlist.sh: build first: mvn -B -DskipTests package" >&2
    exit 2
fi
java=$(command -v java) || { echo "make-classlist.sh: no java on the PATH" >&2; exit 2; }
java_home=$(dirname "$(dirname "$(readlink -f "$java")")")
jimage=$java_home/bin/jimage
[ -x "$jimage" ] || jimage=$(command -v jimage) || { echo "make-classlist.sh: needs jimage (a JDK, not a JRE)" >&2; exit 2; }

work=$(mktemp -d /tmp/outpost-classlist.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

bin/outpost-server --data-dir "$work/server" --port 0 --bind 127.0.0.1 --log-level WARNING >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$work/server/server.url" ] && break; sleep 0.1; done
[ -s "$work/server/server.url" ] || { echo "the reference server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
cat >"$work/agent.json" <<JSON
{"server_url": "$(cat "$work/server/server.url")", "server_ca": "$work/server/ca.pem",
 "enrollment_token": "$(cat "$work/server/enrollment.token")"}
JSON
chmod 600 "$work/agent.json"
ctl() { bin/outpostctl --server-dir "$work/server" "$@"; }

OUTPOST_JAVA_OPTS="-XX:DumpLoadedClassList=$work/loaded.classlist" \
    bin/outpost run --config "$work/agent.json" --data-dir "$work/agent" >"$work/agent.log" 2>&1 &
agent=$!
pids+=("$agent")
agent_id=""
for _ in $(seq 1 300); do
    agent_id=$(ctl agents 2>/dev/null | sed -n 's/^ *"agentId": "\(.*\)",$/\1/p' | head -n 1)
    [ -n "$agent_id" ] && ctl agents 2>/dev/null | grep -q '"connected": true' && break
    sleep 0.2
done
[ -n "$agent_id" ] || { echo "the agent did not connect:" >&2; tail -n 30 "$work/agent.log" >&2; exit 1; }
for action in agent.ping agent.info plugin.list health.report disk.list; do
    ctl send "$agent_id" "$action" --wait 60 >/dev/null || { echo "$action failed:" >&2; tail -n 30 "$work/agent.log" >&2; exit 1; }
done
# the first periodic health event (every 60 s): what an idle agent goes on loading
for _ in $(seq 1 450); do ctl events 2>/dev/null | grep -q '"kind": *"health"' && break; sleep 0.2; done
ctl events 2>/dev/null | grep -q '"kind": *"health"' || echo "make-classlist.sh: warning: no health event within 90 s" >&2
kill "$agent"
wait "$agent" 2>/dev/null || true

# The JDK's classes by name, from its modules image; the class list's lines kept are those naming one of them (the
# " id: N" suffixes dropped: only classes of custom loaders need them), the JDK's lambda-form lines, and lambda-proxy
# lines of a JDK caller. JFR's event classes are left out: -Xshare:dump skips them with a warning.
"$jimage" list "$java_home/lib/modules" | sed -n 's/^ *\(.*\)\.class$/\1/p' | grep -v '^module-info$' >"$work/jdk.classes"
{
    echo "# The JDK classes a connected Outpost agent loads, written by dist/make-classlist.sh on $("$java" -version 2>&1 | head -n 1)."
    echo "# bin/outpost cds builds the static class-data archive from it (java -Xshare:dump -XX:SharedClassListFile)."
    echo "# Names a JDK does not have are skipped with a warning at that step, so it serves any Java 17 or later."
    awk 'NR == FNR { jdk[$1] = 1; next }
        /^#/ { next }
        /^@lambda-form-invoker / { print; next }
        /^@lambda-proxy / { c = $2; gsub(/\./, "/", c); if (c in jdk) print; next }
        /^@/ { next }
        / source: / { next }
        /^jdk\/internal\/event\// { next }
        ($1 in jdk) { print $1 }' "$work/jdk.classes" "$work/loaded.classlist"
} >"$work/out.classlist"
mv -f "$work/out.classlist" "$out"
echo "$(grep -vc '^[#@]' "$out") JDK classes and $(grep -c '^@' "$out") lambda lines (of $(grep -vc '^#' "$work/loaded.classlist") loaded) in $out"
